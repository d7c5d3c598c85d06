// LoRaWAN bin sensors in the registry, by DevEUI, and their frame-counter sessions.
// A LoRaWAN sensor never connects to the MQTT broker (its network server speaks for it), so its
// Kerbside device row carries a marker in place of a secret's hash, which no password matches.
import type { Calibration } from '../ingest/codecs/fill-level.ts'
import { mapFrameCounter, mapJoin, type FrameMapping, type Session } from '../ingest/lorawan/frame-counter.ts'
import { sha256 } from '../core/secrets.ts'
import type { BinRow } from '../core/contract/registry.ts'
import type { ImportError } from './registry/report.ts'
import type { Database, Queryable } from './database.ts'
import { DeviceConflictError, NotFoundError } from './devices.ts'

export interface LoRaWANDevice {
  devEui: string
  deviceId: string
  model: string
  calibration: Calibration
  binId: string | null
  capacityL: number | null
  joins: number
  lastJoinAt: Date | null
  lastUplinkAt: Date | null
  lastFCnt: number | null
  batteryPct: number | null
  batteryV: number | null
  batteryAt: Date | null
  revoked: boolean
}

export interface LoRaWANRegistration {
  devEui: string
  model: string
  binId: string
  /** Kerbside device id; default `lw-` and the DevEUI in lower case. */
  deviceId?: string
  calibration?: Calibration
}

export const defaultDeviceId = (devEui: string) => `lw-${devEui.toLowerCase()}`

/** Stored as the device's secret hash: not a scrypt hash, so verifySecret refuses every password (no MQTT login). */
export const NO_BROKER_LOGIN = 'lorawan$no-broker-login'

/** DevEUI as stored: 16 upper-case hex digits (network servers send either case, some with separators). */
export function normaliseDevEui(raw: string): string | null {
  const hex = raw.replace(/[-:\s]/g, '').toUpperCase()
  return /^[0-9A-F]{16}$/.test(hex) ? hex : null
}

// Last uplink, frame counter and battery come from what the pipeline stored (devices, latest_readings),
// the battery also from status events and frames without a reading (lorawan_devices.battery_*).
const SELECT = `SELECT ld.dev_eui AS "devEui", ld.device_id AS "deviceId", ld.model, ld.calibration, d.bin_id AS "binId", b.capacity_l AS "capacityL",
  ld.joins, ld.last_join_at AS "lastJoinAt", d.last_ts AS "lastUplinkAt",
  d.last_seq - (SELECT s.seq_base FROM lorawan_sessions s WHERE s.dev_eui = ld.dev_eui ORDER BY s.session_no DESC LIMIT 1) AS "lastFCnt",
  CASE WHEN ld.battery_at IS NOT NULL AND (lr.ts IS NULL OR ld.battery_at >= lr.ts) THEN ld.battery_pct END AS "batteryPct",
  coalesce(CASE WHEN ld.battery_at IS NOT NULL AND (lr.ts IS NULL OR ld.battery_at >= lr.ts) THEN ld.battery_v END, lr.battery_v, ld.battery_v) AS "batteryV",
  greatest(ld.battery_at, CASE WHEN lr.battery_v IS NOT NULL THEN lr.ts END) AS "batteryAt", d.revoked_at IS NOT NULL AS revoked
  FROM lorawan_devices ld JOIN devices d ON d.device_id = ld.device_id LEFT JOIN bins b ON b.bin_id = d.bin_id
  LEFT JOIN latest_readings lr ON lr.device_id = ld.device_id`

/** Register (or re-register: model and calibration change) a sensor by DevEUI on a bin. */
export async function registerLoRaWANDevice(db: Database, input: LoRaWANRegistration): Promise<{ device: LoRaWANDevice; created: boolean }> {
  const devEui = normaliseDevEui(input.devEui)
  if (!devEui) throw new RangeError(`DevEUI ${JSON.stringify(input.devEui)} is not 16 hex digits`)
  const deviceId = input.deviceId ?? defaultDeviceId(devEui)
  const created = await db.transaction(async (tx) => {
    const { rows: existing } = await tx.query<{ deviceId: string }>(`SELECT device_id AS "deviceId" FROM lorawan_devices WHERE dev_eui = $1 FOR UPDATE`, [devEui])
    if (existing[0] && existing[0].deviceId !== deviceId) throw new DeviceConflictError(`DevEUI ${devEui} is already registered as device ${existing[0].deviceId}`)
    const { rows: dev } = await tx.query<{ kind: string; binId: string | null }>(`SELECT kind, bin_id AS "binId" FROM devices WHERE device_id = $1`, [deviceId])
    if (!dev[0]) {
      const { rows: bin } = await tx.query(`SELECT 1 FROM bins WHERE bin_id = $1`, [input.binId])
      if (bin.length === 0) throw new NotFoundError(`bin ${input.binId} is not in the registry`)
      const { rows: taken } = await tx.query<{ deviceId: string }>(`SELECT device_id AS "deviceId" FROM devices WHERE bin_id = $1`, [input.binId])
      if (taken[0]) throw new DeviceConflictError(`bin ${input.binId} already has the device ${taken[0].deviceId}`)
      await tx.query(`INSERT INTO devices (device_id, kind, secret_hash, bin_id) VALUES ($1, 'bin', $2, $3)`, [deviceId, NO_BROKER_LOGIN, input.binId])
    } else if (dev[0].kind !== 'bin' || dev[0].binId !== input.binId) {
      throw new DeviceConflictError(`device ${deviceId} exists on ${dev[0].binId ? `bin ${dev[0].binId}` : 'no bin'}, not on bin ${input.binId}`)
    }
    await tx.query(
      `INSERT INTO lorawan_devices (dev_eui, device_id, model, calibration) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (dev_eui) DO UPDATE SET model = excluded.model, calibration = excluded.calibration, updated_at = now()`,
      [devEui, deviceId, input.model, JSON.stringify(input.calibration ?? {})],
    )
    return !existing[0]
  })
  return { device: (await getLoRaWANDevice(db, devEui))!, created }
}

export async function getLoRaWANDevice(db: Queryable, devEui: string): Promise<LoRaWANDevice | null> {
  const { rows } = await db.query<LoRaWANDevice>(`${SELECT} WHERE ld.dev_eui = $1`, [devEui])
  return rows[0] ?? null
}

/**
 * A device's frame-counter sessions, oldest first. The latest one's highest FCnt and time are read
 * from what the pipeline stored (devices.last_seq / last_ts: the highest seq and its ts, which is the
 * network-server time), so that the common uplink writes nothing here; a session row is written
 * only when a session opens (its predecessor's final state with it) or its start moves earlier.
 */
export async function listSessions(db: Queryable, devEui: string, limit = 20): Promise<Session[]> {
  return (await sessionsOf(db, [devEui], limit)).get(devEui) ?? []
}

/** The sessions of several devices in one query (the webhook maps a group of uplinks at a time). */
export async function sessionsOf(db: Queryable, devEuis: string[], limit = 20): Promise<Map<string, Session[]>> {
  const { rows } = await db.query<{ devEui: string; sessionNo: number; startedAt: Date; seqBase: number; maxFCnt: number; lastReceivedAt: Date; reason: Session['reason']; lastSeq: number | null; lastTs: Date | null }>(
    `SELECT * FROM (
       SELECT s.dev_eui AS "devEui", s.session_no AS "sessionNo", s.started_at AS "startedAt", s.seq_base AS "seqBase", s.max_f_cnt AS "maxFCnt", s.last_received_at AS "lastReceivedAt", s.reason,
              d.last_seq AS "lastSeq", d.last_ts AS "lastTs", row_number() OVER (PARTITION BY s.dev_eui ORDER BY s.session_no DESC) AS n
         FROM lorawan_sessions s JOIN lorawan_devices ld ON ld.dev_eui = s.dev_eui JOIN devices d ON d.device_id = ld.device_id
        WHERE s.dev_eui = ANY($1::text[])) q
      WHERE n <= $2 ORDER BY "devEui", "sessionNo"`, [devEuis, limit])
  const out = new Map<string, Session[]>()
  for (const r of rows) {
    const list = out.get(r.devEui) ?? []
    list.push({ sessionNo: r.sessionNo, startedAt: r.startedAt.getTime(), seqBase: r.seqBase, maxFCnt: r.maxFCnt, lastReceivedAt: r.lastReceivedAt.getTime(), reason: r.reason })
    out.set(r.devEui, list)
    const latest = list.at(-1)!
    if (r.lastSeq !== null && r.lastTs && r.lastSeq >= latest.seqBase) {
      latest.maxFCnt = Math.max(latest.maxFCnt, r.lastSeq - latest.seqBase)
      latest.lastReceivedAt = Math.max(latest.lastReceivedAt, r.lastTs.getTime())
    }
  }
  return out
}

/** Registered devices by DevEUI, in one query. */
export async function devicesOf(db: Queryable, devEuis: string[]): Promise<Map<string, LoRaWANDevice>> {
  const { rows } = await db.query<LoRaWANDevice>(`${SELECT} WHERE ld.dev_eui = ANY($1::text[])`, [devEuis])
  return new Map(rows.map((r) => [r.devEui, r]))
}

/** Store a session that opened (false when another request opened it first) or whose start moved earlier. */
export async function writeSession(db: Queryable, devEui: string, w: { session: Session; closing?: Session }): Promise<boolean> {
  const s = w.session
  if (w.closing) {
    await db.query(`UPDATE lorawan_sessions SET max_f_cnt = greatest(max_f_cnt, $3), last_received_at = greatest(last_received_at, $4) WHERE dev_eui = $1 AND session_no = $2`,
      [devEui, w.closing.sessionNo, w.closing.maxFCnt, new Date(w.closing.lastReceivedAt).toISOString()])
  }
  const res = await db.query(
    `INSERT INTO lorawan_sessions (dev_eui, session_no, started_at, seq_base, max_f_cnt, last_received_at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (dev_eui, session_no) DO UPDATE SET started_at = least(lorawan_sessions.started_at, excluded.started_at), reason = excluded.reason
       WHERE lorawan_sessions.seq_base = excluded.seq_base AND (excluded.started_at < lorawan_sessions.started_at OR excluded.reason <> lorawan_sessions.reason)`,
    [devEui, s.sessionNo, new Date(s.startedAt).toISOString(), s.seqBase, s.maxFCnt, new Date(s.lastReceivedAt).toISOString(), s.reason],
  )
  return res.rowCount > 0
}

export type UplinkMapping = { device: LoRaWANDevice; mapping: FrameMapping } | null

/**
 * Map an uplink's frame counter onto the device's seq. Reads only, except when a session opens; two
 * requests opening the same session race on its primary key, and the loser maps again against the
 * session the winner stored. Null when the DevEUI is not registered.
 */
export async function mapUplink(db: Queryable, devEui: string, fCnt: number, receivedAt: Date): Promise<UplinkMapping> {
  const device = await getLoRaWANDevice(db, devEui)
  if (!device) return null
  for (let attempt = 0; ; attempt++) {
    const sessions = await listSessions(db, devEui)
    const mapping = mapFrameCounter(sessions, fCnt, receivedAt.getTime())
    if (!mapping.ok || !mapping.write) return { device, mapping }
    const opening = !sessions.some((s) => s.sessionNo === mapping.write!.session.sessionNo)
    if ((await writeSession(db, devEui, mapping.write)) || !opening || attempt >= 3) return { device, mapping }
  }
}

/** A join (TTS join_accept, ChirpStack `join`): counted on the device and opening a frame-counter session. False when the DevEUI is unknown. */
export async function recordJoin(db: Database, devEui: string, at: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ lastJoinAt: Date | null }>(`SELECT last_join_at AS "lastJoinAt" FROM lorawan_devices WHERE dev_eui = $1 FOR UPDATE`, [devEui])
    if (!rows[0]) return false
    if (rows[0].lastJoinAt?.getTime() === at.getTime()) return true // the same join delivered again
    const joined = mapJoin(await listSessions(tx, devEui), at.getTime())
    if (joined) await writeSession(tx, devEui, joined)
    await tx.query(`UPDATE lorawan_devices SET joins = joins + 1, last_join_at = greatest(last_join_at, $2::timestamptz) WHERE dev_eui = $1`, [devEui, at.toISOString()])
    return true
  })
}

/** Battery from a device-status event (ChirpStack `status`). False when the DevEUI is unknown. */
export async function recordBattery(db: Queryable, devEui: string, at: Date, pct: number | null, v: number | null): Promise<boolean> {
  const res = await db.query(
    `UPDATE lorawan_devices SET battery_pct = coalesce($3, battery_pct), battery_v = coalesce($4, battery_v), battery_at = $2
      WHERE dev_eui = $1 AND (battery_at IS NULL OR battery_at <= $2)`,
    [devEui, at.toISOString(), pct, v])
  if (res.rowCount > 0) return true
  return (await db.query(`SELECT 1 FROM lorawan_devices WHERE dev_eui = $1`, [devEui])).rowCount > 0
}

/** Bytes of a refused envelope kept, as for MQTT payloads (ingest/write-batch.ts). */
const QUARANTINE_KEEP_BYTES = 4096

/**
 * An uplink Kerbside cannot store (unknown DevEUI, a payload its codec cannot read, an envelope it
 * does not understand), kept in the same quarantine as refused MQTT messages, with its reason. One
 * row per distinct (topic, payload): the same uplink delivered again updates `last_seen`.
 */
export async function quarantineUplink(db: Queryable, q: { topic: string; deviceId: string | null; reason: string; detail: string; payload: Buffer }): Promise<void> {
  await db.query(
    `INSERT INTO quarantine (topic, device_id, reason, detail, payload, payload_bytes, payload_sha256) VALUES ($1, $2, $3, $4, decode($5, 'hex'), $6, decode($7, 'hex'))
     ON CONFLICT (topic, payload_sha256) DO UPDATE SET last_seen = now(), reason = excluded.reason, detail = excluded.detail, times_seen = quarantine.times_seen + 1`,
    [q.topic.slice(0, 512), q.deviceId, q.reason, q.detail.slice(0, 500).replace(/\0/g, '\\0'), q.payload.subarray(0, QUARANTINE_KEEP_BYTES).toString('hex'), q.payload.length, sha256(q.payload).toString('hex')],
  )
}

/** The LoRaWAN sensor of a registry import's bin row (docs/lorawan.md: sensorDevEui, sensorModel, calibration columns). */
type SensorRow = Pick<BinRow, 'binId' | 'sensorDeviceId' | 'sensorDevEui' | 'sensorModel' | 'sensorInnerDepthMm' | 'sensorMountOffsetMm' | 'sensorBlindZoneMm'>

const calibrationOf = (r: SensorRow): Calibration => Object.fromEntries(Object.entries({ innerDepthMm: r.sensorInnerDepthMm, mountOffsetMm: r.sensorMountOffsetMm, blindZoneMm: r.sensorBlindZoneMm })
  .filter(([, v]) => v !== null && v !== undefined)) as Calibration

/**
 * Check the LoRaWAN sensors of an import's bins: a known model, each DevEUI on one bin of the file,
 * and not already the sensor of a bin the file does not move it from.
 */
export async function checkImportSensors(db: Queryable, rows: { row: number; value: SensorRow }[], models: readonly string[], errors: ImportError[]): Promise<void> {
  const first = new Map<string, { row: number; binId: string }>()
  for (const { row, value: r } of rows) {
    const devEui = normaliseDevEui(r.sensorDevEui ?? '')!
    if (!r.sensorModel || !models.includes(r.sensorModel)) errors.push({ entity: 'bins', row, field: 'sensorModel', message: `a LoRaWAN sensor needs its model, one of ${models.join(', ')}` })
    if (r.sensorDeviceId && r.sensorDeviceId !== defaultDeviceId(devEui)) {
      const { rows: known } = await db.query<{ deviceId: string }>(`SELECT device_id AS "deviceId" FROM lorawan_devices WHERE dev_eui = $1`, [devEui])
      if (known[0]?.deviceId !== r.sensorDeviceId) errors.push({ entity: 'bins', row, field: 'sensorDeviceId', message: `leave sensorDeviceId empty for a LoRaWAN sensor (it becomes ${defaultDeviceId(devEui)}), or give the device id it is registered with` })
    }
    const seen = first.get(devEui)
    if (seen) errors.push({ entity: 'bins', row, field: 'sensorDevEui', message: `DevEUI ${devEui} is also on bin ${seen.binId} (row ${seen.row})` })
    else first.set(devEui, { row, binId: r.binId })
  }
  if (first.size === 0) return
  const { rows: occupied } = await db.query<{ binId: string; deviceId: string }>(
    `SELECT bin_id AS "binId", device_id AS "deviceId" FROM devices WHERE bin_id = ANY($1::text[])`, [[...first.values()].map((c) => c.binId)])
  for (const o of occupied) {
    const [devEui, claim] = [...first].find(([, c]) => c.binId === o.binId)!
    const { rows: same } = await db.query(`SELECT 1 FROM lorawan_devices WHERE dev_eui = $1 AND device_id = $2`, [devEui, o.deviceId])
    if (same.length === 0) errors.push({ entity: 'bins', row: claim.row, field: 'sensorDevEui', message: `bin ${o.binId} already has the device ${o.deviceId}; revoke it or take it off the bin first` })
  }
  const { rows: current } = await db.query<{ devEui: string; binId: string | null }>(
    `SELECT ld.dev_eui AS "devEui", d.bin_id AS "binId" FROM lorawan_devices ld JOIN devices d ON d.device_id = ld.device_id WHERE ld.dev_eui = ANY($1::text[])`, [[...first.keys()]])
  for (const c of current) {
    const claim = first.get(c.devEui)!
    if (c.binId !== claim.binId) errors.push({ entity: 'bins', row: claim.row, field: 'sensorDevEui', message: `DevEUI ${c.devEui} is the sensor of bin ${c.binId ?? '(none)'}; take it off that bin first` })
  }
}

/** Register (or update) the LoRaWAN sensors of imported bins, in the import's transaction. */
export async function upsertImportSensors(tx: Queryable, rows: SensorRow[]): Promise<void> {
  for (const r of rows) {
    const devEui = normaliseDevEui(r.sensorDevEui ?? '')!
    const deviceId = r.sensorDeviceId ?? defaultDeviceId(devEui)
    await tx.query(`INSERT INTO devices (device_id, kind, secret_hash, bin_id) VALUES ($1, 'bin', $2, $3) ON CONFLICT (device_id) DO UPDATE SET bin_id = excluded.bin_id WHERE devices.bin_id IS NULL`, [deviceId, NO_BROKER_LOGIN, r.binId])
    await tx.query(
      `INSERT INTO lorawan_devices (dev_eui, device_id, model, calibration) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (dev_eui) DO UPDATE SET model = excluded.model, calibration = excluded.calibration, updated_at = now()
        WHERE lorawan_devices.model <> excluded.model OR lorawan_devices.calibration <> excluded.calibration`,
      [devEui, deviceId, r.sensorModel, JSON.stringify(calibrationOf(r))],
    )
  }
}

/** Network-server time of the newest LoRaWAN reading stored (where a backfill after a restart starts). */
export async function newestLoRaWANReading(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ ts: Date | null }>(`SELECT max(d.last_ts) AS ts FROM lorawan_devices ld JOIN devices d ON d.device_id = ld.device_id`)
  return rows[0]?.ts ?? null
}
