// Network-server envelopes, built as each server documents them, for the LoRaWAN simulator, the
// tests and the benchmark: The Things Stack v3 "Data Formats" (uplink and join-accept messages;
// empty fields left out, so FCnt 0 has no `f_cnt`) and ChirpStack v4 integration events (Protobuf
// JSON mapping: camelCase, bytes base64, EUIs as hex).

export interface UplinkSpec {
  devEui: string
  fCnt: number
  fPort?: number
  payload: Buffer
  /** Network-server time of reception. */
  receivedAt: Date
  /** Gateways that heard it (each gives one rx_metadata / rxInfo entry). */
  gateways?: number
  decoded?: Record<string, unknown>
  deviceName?: string
  applicationId?: string
}

const gatewayEui = (i: number) => `B827EBFFFE${(0x100000 + i).toString(16).toUpperCase().slice(-6)}`

export function ttsUplink(u: UplinkSpec): Record<string, unknown> {
  const gateways = u.gateways ?? 1
  const ns = u.receivedAt.toISOString()
  const as = new Date(u.receivedAt.getTime() + 37).toISOString()
  const uplink: Record<string, unknown> = {
    session_key_id: 'AXA50tHUGUucuzS/bCGMNw==',
    f_port: u.fPort ?? 1,
    frm_payload: u.payload.toString('base64'),
    rx_metadata: Array.from({ length: gateways }, (_, i) => ({
      gateway_ids: { gateway_id: `gtw-${i + 1}`, eui: gatewayEui(i) },
      time: new Date(u.receivedAt.getTime() - 200).toISOString(), timestamp: 2463457000 + i, rssi: -60 - 7 * i, channel_rssi: -60 - 7 * i, snr: 7 - i, channel_index: 2,
    })),
    settings: { data_rate: { lora: { bandwidth: 125000, spreading_factor: 7 } }, data_rate_index: 5, coding_rate: '4/5', frequency: '868300000' },
    received_at: ns,
    consumed_airtime: '0.056576s',
  }
  if (u.fCnt !== 0) uplink.f_cnt = u.fCnt
  if (u.decoded) uplink.decoded_payload = u.decoded
  return {
    end_device_ids: { device_id: u.deviceName ?? `bin-${u.devEui.toLowerCase()}`, application_ids: { application_id: u.applicationId ?? 'kerbside-bins' }, dev_eui: u.devEui, join_eui: '70B3D57ED0000000', dev_addr: '260B1234' },
    correlation_ids: [`as:up:${u.devEui}${u.fCnt}`, `ns:uplink:${u.devEui}${u.fCnt}`],
    received_at: as,
    uplink_message: uplink,
  }
}

export function ttsJoinAccept(devEui: string, receivedAt: Date): Record<string, unknown> {
  return {
    end_device_ids: { device_id: `bin-${devEui.toLowerCase()}`, application_ids: { application_id: 'kerbside-bins' }, dev_eui: devEui, join_eui: '70B3D57ED0000000', dev_addr: '260B5678' },
    correlation_ids: [`as:up:join${devEui}`],
    received_at: new Date(receivedAt.getTime() + 40).toISOString(),
    join_accept: { session_key_id: 'AXBSH1Pk6Z0G166RlH16CQ==', received_at: receivedAt.toISOString() },
  }
}

const chirpstackDeviceInfo = (devEui: string, name?: string) => ({
  tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242', tenantName: 'Council', applicationId: '17c82e96-be03-4f38-aef3-f83d48582d97', applicationName: 'kerbside-bins',
  deviceProfileId: '14855bf7-d10d-4aee-b618-ebfcb64dc7ad', deviceProfileName: 'bin sensors', deviceName: name ?? `bin-${devEui.toLowerCase()}`, devEui: devEui.toLowerCase(), tags: {},
})

export function chirpstackUp(u: UplinkSpec): Record<string, unknown> {
  const gateways = u.gateways ?? 1
  const ev: Record<string, unknown> = {
    deduplicationId: `3ac7e3c4-4401-4b8d-9386-a5c902f9${u.fCnt.toString(16).padStart(4, '0')}`,
    time: u.receivedAt.toISOString(),
    deviceInfo: chirpstackDeviceInfo(u.devEui, u.deviceName),
    devAddr: '00189440', adr: true, dr: 5, fPort: u.fPort ?? 1,
    data: u.payload.toString('base64'),
    rxInfo: Array.from({ length: gateways }, (_, i) => ({
      gatewayId: gatewayEui(i).toLowerCase(), uplinkId: 1000 + i, nsTime: u.receivedAt.toISOString(), rssi: -60 - 7 * i, snr: 7 - i, channel: 2, location: {}, context: 'EFwMtA==', crcStatus: 'CRC_OK',
    })),
    txInfo: { frequency: 868100000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 7, codeRate: 'CR_4_5' } } },
  }
  if (u.fCnt !== 0) ev.fCnt = u.fCnt
  if (u.decoded) ev.object = u.decoded
  return ev
}

export function chirpstackJoin(devEui: string, time: Date): Record<string, unknown> {
  return { deduplicationId: 'c9dbe358-2578-4fb7-b295-66b44edc45a6', time: time.toISOString(), deviceInfo: chirpstackDeviceInfo(devEui), devAddr: '00189440' }
}

export function chirpstackStatus(devEui: string, time: Date, batteryLevel: number): Record<string, unknown> {
  return { deduplicationId: 'f9d3c7a1-1a2b-4c5d-8e9f-0a1b2c3d4e5f', time: time.toISOString(), deviceInfo: chirpstackDeviceInfo(devEui), margin: 7, batteryLevel }
}
