// Raw frames as each supported sensor sends them (the inverse of ingest/codecs), for the LoRaWAN
// simulator: a distance, a battery and, where the model has them, a temperature and a tilt.

export interface SensorState { distanceMm: number; batteryPct: number; tempC: number; tilted: boolean }

const batteryMv = (pct: number, emptyV: number, fullV: number) => Math.round((emptyV + (fullV - emptyV) * pct / 100) * 1000)

/** The frame and FPort a sensor of `model` would send for `s`. */
export function encodeFrame(model: string, s: SensorState): { fPort: number; payload: Buffer } {
  switch (model) {
    case 'milesight-em310-udl': {
      const b = Buffer.alloc(10)
      b.writeUInt8(0x01, 0); b.writeUInt8(0x75, 1); b.writeUInt8(Math.round(s.batteryPct), 2)
      b.writeUInt8(0x03, 3); b.writeUInt8(0x82, 4); b.writeUInt16LE(Math.round(s.distanceMm), 5)
      b.writeUInt8(0x04, 7); b.writeUInt8(0x00, 8); b.writeUInt8(s.tilted ? 1 : 0, 9)
      return { fPort: 85, payload: b }
    }
    case 'milesight-em400-udl': {
      const b = Buffer.alloc(14)
      b.writeUInt8(0x01, 0); b.writeUInt8(0x75, 1); b.writeUInt8(Math.round(s.batteryPct), 2)
      b.writeUInt8(0x03, 3); b.writeUInt8(0x67, 4); b.writeInt16LE(Math.round(s.tempC * 10), 5)
      b.writeUInt8(0x04, 7); b.writeUInt8(0x82, 8); b.writeUInt16LE(Math.round(s.distanceMm), 9)
      b.writeUInt8(0x05, 11); b.writeUInt8(0x00, 12); b.writeUInt8(s.tilted ? 1 : 0, 13)
      return { fPort: 85, payload: b }
    }
    case 'dragino-ldds75': {
      const b = Buffer.alloc(8)
      b.writeUInt16BE(batteryMv(s.batteryPct, 2.5, 3.6) & 0x3fff, 0)
      b.writeUInt16BE(Math.round(s.distanceMm), 2)
      b.writeUInt8(0, 4)
      b.writeInt16BE(Math.round(s.tempC * 10), 5)
      b.writeUInt8(1, 7)
      return { fPort: 2, payload: b }
    }
    case 'decentlab-dl-mbx': {
      const b = Buffer.alloc(11)
      b.writeUInt8(2, 0); b.writeUInt16BE(303, 1); b.writeUInt16BE(0x0003, 3)
      b.writeUInt16BE(Math.round(s.distanceMm), 5); b.writeUInt16BE(1, 7)
      b.writeUInt16BE(batteryMv(s.batteryPct, 2.0, 3.2), 9)
      return { fPort: 1, payload: b }
    }
    default:
      throw new Error(`no frame encoder for model ${model}`)
  }
}
