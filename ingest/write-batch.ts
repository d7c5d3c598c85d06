// One batch of decoded messages, written in one transaction: telemetry rows (idempotent on
// device + ts + seq), refused input into quarantine with its reason, device sequence state and gaps,
// and online/offline transitions. The caller acknowledges the batch only after this commits.
import type { RejectReason } from '../core/contract/messages.ts'
import type { DeviceKind, ParsedTopic } from '../core/contract/topics.ts'
import type { BinReading, ContractMessage, LiftEvent, VehiclePosition } from '../core/contract/messages.ts'
import { sha256 } from '../core/secrets.ts'
import type { Database, Queryable } from '../storage/database.ts'
import { onWorkerThread } from '../storage/pglite-worker-client.ts'
import { invalidateRollupHours } from '../storage/readings.ts'
import { gapFor, planSequence, type Gap } from './sequence.ts'

export interface DecodedItem {
  topic: string
  payload: Buffer
  receivedAt: Date
  parsed: ParsedTopic | null
  /** The validated message, or why it was refused. */
  result: { ok: true; message: ContractMessage } | { ok: false; reason: RejectReason | 'storage_error'; detail: string }
}

export interface BatchStats {
  stored: { reading: number; lift: number; position: number }
  duplicates: number
  rejected: Partial<Record<RejectReason | 'storage_error', number>>
  statusChanges: number
  gapsOpened: number
  missingSeen: number
  gapsFilled: number
  /** The refused messages of the batch, with their reasons (quarantined, then acknowledged). */
  refusedItems: Map<DecodedItem, { reason: string; detail: string }>
}

type SeqKind = 'reading' | 'lift' | 'position'
interface SeqItem { item: DecodedItem; deviceId: string; kind: SeqKind; body: BinReading | LiftEvent | VehiclePosition; seq: number; tsMs: number }
interface Binding { deviceId: string; kind: DeviceKind; binId: string | null; uprn: number | null; vehicleId: string | null; lastSeq: number | null }

/** Bytes of a refused payload kept for inspection; the size and digest are of the whole payload. */
const QUARANTINE_KEEP_BYTES = 4096

export const emptyStats = (): BatchStats => ({ stored: { reading: 0, lift: 0, position: 0 }, duplicates: 0, rejected: {}, statusChanges: 0, gapsOpened: 0, missingSeen: 0, gapsFilled: 0, refusedItems: new Map() })

export interface WriteOptions {
  /** Record the hours late readings touched, for tiers that keep their own roll-up (see storage/readings.ts). */
  invalidateRollup?: boolean
}

/**
 * Write a batch in one transaction of `db`. Where the embedded engine runs on a worker thread, the
 * whole batch is one message to that thread and the answer one message back (writeBatchOnWorker,
 * below): its statements then run back to back there, not one round trip each through a main
 * thread that is busy reading sockets.
 */
export async function commitBatch(db: Database, items: readonly DecodedItem[], opts: WriteOptions = {}): Promise<BatchStats> {
  if (!onWorkerThread(db)) return db.transaction((tx) => writeBatch(tx, items, opts))
  const stats = await db.transactionIn<WorkerStats>(import.meta.url, 'writeBatchOnWorker', { items, opts })
  return { ...stats, refusedItems: new Map(stats.refused.map(([i, why]) => [items[i]!, why])) }
}

type WorkerStats = Omit<BatchStats, 'refusedItems'> & { refused: [number, { reason: string; detail: string }][] }

/** commitBatch's side on the engine's thread: items arrive by structured clone, so Buffers as Uint8Arrays. */
export async function writeBatchOnWorker(tx: Queryable, args: { items: DecodedItem[]; opts: WriteOptions }): Promise<WorkerStats> {
  const index = new Map<DecodedItem, number>()
  const items = args.items.map((item, i) => {
    const p = item.payload as Uint8Array
    const copy = { ...item, payload: Buffer.from(p.buffer, p.byteOffset, p.byteLength) }
    index.set(copy, i)
    return copy
  })
  const { refusedItems, ...stats } = await writeBatch(tx, items, args.opts)
  return { ...stats, refused: [...refusedItems].map(([item, why]) => [index.get(item)!, why]) }
}

export async function writeBatch(tx: Queryable, items: readonly DecodedItem[], opts: WriteOptions = {}): Promise<BatchStats> {
  const stats = emptyStats()
  const refused: { item: DecodedItem; reason: RejectReason | 'storage_error'; detail: string }[] = []
  const refuse = (item: DecodedItem, reason: RejectReason | 'storage_error', detail: string) => {
    refused.push({ item, reason, detail })
    stats.refusedItems.set(item, { reason, detail })
    stats.rejected[reason] = (stats.rejected[reason] ?? 0) + 1
  }

  const candidates: DecodedItem[] = []
  for (const item of items) {
    if (!item.result.ok) refuse(item, item.result.reason, item.result.detail)
    else candidates.push(item)
  }

  // Lock the devices of this batch in a fixed order, so that concurrent workers serialise per
  // device (sequence state stays exact) and cannot deadlock.
  const deviceIds = [...new Set(candidates.map((i) => i.parsed!.deviceId))].sort()
  const bindings = new Map<string, Binding>()
  if (deviceIds.length > 0) {
    const { rows } = await tx.query<Binding>(
      `SELECT d.device_id AS "deviceId", d.kind, d.bin_id AS "binId", b.uprn, d.vehicle_id AS "vehicleId", d.last_seq AS "lastSeq"
         FROM devices d LEFT JOIN bins b ON b.bin_id = d.bin_id
        WHERE d.device_id = ANY($1::text[]) AND d.revoked_at IS NULL
        ORDER BY d.device_id
          FOR UPDATE OF d`,
      [deviceIds],
    )
    for (const r of rows) bindings.set(r.deviceId, r)
  }

  const byDevice = new Map<string, SeqItem[]>()
  const statusItems: { deviceId: string; online: boolean; ts: Date }[] = []
  for (const item of candidates) {
    const parsed = item.parsed!
    const binding = bindings.get(parsed.deviceId)
    if (!binding) { refuse(item, 'unknown_device', `device ${parsed.deviceId} is not registered or was revoked`); continue }
    if (binding.kind !== parsed.deviceKind) { refuse(item, 'wrong_device_kind', `device ${parsed.deviceId} is a ${binding.kind} device`); continue }
    const message = (item.result as { ok: true; message: ContractMessage }).message
    if (message.kind === 'status') {
      statusItems.push({ deviceId: parsed.deviceId, online: message.body.online, ts: message.body.ts ? new Date(message.body.ts) : item.receivedAt })
      continue
    }
    const seqItem: SeqItem = { item, deviceId: parsed.deviceId, kind: message.kind, body: message.body, seq: message.body.seq, tsMs: Date.parse(message.body.ts) }
    const list = byDevice.get(parsed.deviceId)
    if (list) list.push(seqItem)
    else byDevice.set(parsed.deviceId, [seqItem])
  }

  // Sequence plan per device.
  const accepted: SeqItem[] = []
  const late: SeqItem[] = []
  const newGaps: (Gap & { deviceId: string })[] = []
  const advanced: { deviceId: string; seq: number; tsMs: number }[] = []
  for (const [deviceId, list] of byDevice) {
    const plan = planSequence(bindings.get(deviceId)!.lastSeq, list)
    accepted.push(...plan.fresh)
    late.push(...plan.late)
    for (const g of plan.newGaps) newGaps.push({ ...g, deviceId })
    if (plan.advanced) advanced.push({ deviceId, ...plan.advanced })
  }

  // Late messages: a gap fill, an exact redelivery, or a regression.
  const gapFills = new Map<string, { deviceId: string; afterSeq: number; n: number }>()
  const fillOf = new Map<SeqItem, { deviceId: string; afterSeq: number }>()
  if (late.length > 0) {
    const lateDevices = [...new Set(late.map((l) => l.deviceId))]
    const { rows: openGaps } = await tx.query<Gap & { deviceId: string }>(
      `SELECT device_id AS "deviceId", after_seq AS "afterSeq", before_seq AS "beforeSeq", missing FROM device_gaps WHERE device_id = ANY($1::text[]) AND missing > 0`,
      [lateDevices],
    )
    const existing = await existingKeys(tx, late)
    // A redelivered copy can share a batch with its original, which is among the fresh ones.
    const seenInBatch = new Set(accepted.map(keyOf))
    for (const l of late) {
      const key = keyOf(l)
      if (existing.has(key) || seenInBatch.has(key)) { stats.duplicates++; continue }
      seenInBatch.add(key)
      const gap = gapFor(openGaps.filter((g) => g.deviceId === l.deviceId), l.seq)
      if (gap) {
        accepted.push(l)
        fillOf.set(l, { deviceId: l.deviceId, afterSeq: gap.afterSeq })
      } else {
        refuse(l.item, 'seq_regression', `seq ${l.seq} is not above the last stored seq of ${l.deviceId} and fills no gap`)
      }
    }
  }

  // Telemetry rows; RETURNING tells which were new (the rest were redeliveries).
  const inserted = await insertTelemetry(tx, accepted, bindings)
  if (opts.invalidateRollup) {
    const times = accepted.filter((a) => a.kind === 'reading' && inserted.has(keyOf(a))).map((a) => new Date(a.tsMs))
    await invalidateRollupHours(tx, times)
  }
  for (const s of accepted) {
    if (!inserted.has(keyOf(s))) { stats.duplicates++; continue }
    stats.stored[s.kind]++
    const fill = fillOf.get(s)
    if (fill) {
      const gk = `${fill.deviceId}\0${fill.afterSeq}`
      const g = gapFills.get(gk)
      if (g) g.n++
      else gapFills.set(gk, { ...fill, n: 1 })
      stats.gapsFilled++
    }
  }

  if (advanced.length > 0) {
    await tx.query(
      `UPDATE devices d SET last_seq = v.seq, last_ts = v.ts
         FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS v(device_id, seq, ts)
        WHERE d.device_id = v.device_id AND (d.last_seq IS NULL OR d.last_seq < v.seq)`,
      [advanced.map((a) => a.deviceId), advanced.map((a) => a.seq), advanced.map((a) => new Date(a.tsMs).toISOString())],
    )
  }
  if (newGaps.length > 0) {
    await tx.query(
      `INSERT INTO device_gaps (device_id, after_seq, before_seq, missing, lead_in)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[]) ON CONFLICT (device_id, after_seq) DO NOTHING`,
      [newGaps.map((g) => g.deviceId), newGaps.map((g) => g.afterSeq), newGaps.map((g) => g.beforeSeq), newGaps.map((g) => g.missing), newGaps.map((g) => g.leadIn === true)],
    )
    const losses = newGaps.filter((g) => !g.leadIn)
    stats.gapsOpened = losses.length
    stats.missingSeen = losses.reduce((n, g) => n + g.missing, 0)
  }
  if (gapFills.size > 0) {
    const fills = [...gapFills.values()]
    await tx.query(
      `UPDATE device_gaps g SET missing = greatest(g.missing - v.n, 0)
         FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS v(device_id, after_seq, n)
        WHERE g.device_id = v.device_id AND g.after_seq = v.after_seq`,
      [fills.map((f) => f.deviceId), fills.map((f) => f.afterSeq), fills.map((f) => f.n)],
    )
  }

  stats.statusChanges = await applyStatus(tx, statusItems)
  if (refused.length > 0) await quarantine(tx, refused)
  return stats
}

async function existingKeys(tx: Queryable, late: SeqItem[]): Promise<Set<string>> {
  const found = new Set<string>()
  const tables: Record<SeqKind, string> = { reading: 'bin_readings', lift: 'lift_events', position: 'vehicle_positions' }
  for (const kind of ['reading', 'lift', 'position'] as const) {
    const subset = late.filter((l) => l.kind === kind)
    if (subset.length === 0) continue
    const { rows } = await tx.query<{ deviceId: string; ts: Date; seq: number }>(
      `SELECT t.device_id AS "deviceId", t.ts, t.seq FROM ${tables[kind]} t
         JOIN unnest($1::text[], $2::timestamptz[], $3::bigint[]) AS k(device_id, ts, seq)
           ON t.device_id = k.device_id AND t.ts = k.ts AND t.seq = k.seq`,
      [subset.map((l) => l.deviceId), subset.map((l) => new Date(l.tsMs).toISOString()), subset.map((l) => l.seq)],
    )
    for (const r of rows) found.add(`${r.deviceId}\0${r.ts.getTime()}\0${r.seq}`)
  }
  return found
}

async function insertTelemetry(tx: Queryable, accepted: SeqItem[], bindings: Map<string, Binding>): Promise<Set<string>> {
  const inserted = new Set<string>()
  const iso = (s: SeqItem) => new Date(s.tsMs).toISOString()
  const col = <T>(list: SeqItem[], f: (s: SeqItem) => T) => list.map(f)
  const binding = (s: SeqItem) => bindings.get(s.deviceId)!

  /**
   * Insert rows idempotently and learn which were new. Nearly always all of them are (sequence
   * planning has already set redeliveries aside), which `rowCount` shows without sending every key
   * back; only when some conflicted is the insert redone, under a savepoint, with RETURNING.
   */
  async function insertAll(list: SeqItem[], sql: string, params: unknown[]): Promise<void> {
    if (list.length === 0) return
    await tx.query('SAVEPOINT telemetry')
    const res = await tx.query(sql, params)
    if (res.rowCount === list.length) {
      for (const s of list) inserted.add(keyOf(s))
      await tx.query('RELEASE SAVEPOINT telemetry')
      return
    }
    await tx.query('ROLLBACK TO SAVEPOINT telemetry')
    const { rows } = await tx.query<{ deviceId: string; ts: Date; seq: number }>(`${sql} RETURNING device_id AS "deviceId", ts, seq`, params)
    for (const r of rows) inserted.add(`${r.deviceId}\0${r.ts.getTime()}\0${r.seq}`)
  }

  const readings = accepted.filter((s) => s.kind === 'reading')
  const reading = (s: SeqItem) => s.body as BinReading
  await insertAll(readings,
    `INSERT INTO bin_readings (ts, device_id, seq, bin_id, uprn, fill_pct, temp_c, battery_v, status)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::real[], $7::real[], $8::real[], $9::text[])
     ON CONFLICT DO NOTHING`,
    [col(readings, iso), col(readings, (s) => s.deviceId), col(readings, (s) => s.seq), col(readings, (s) => binding(s).binId),
      col(readings, (s) => binding(s).uprn), col(readings, (s) => reading(s).fillPct), col(readings, (s) => reading(s).tempC ?? null),
      col(readings, (s) => reading(s).batteryV ?? null), col(readings, (s) => reading(s).status ?? null)])
  const newestReadings = newestPerDevice(readings.filter((s) => inserted.has(keyOf(s))))
  if (newestReadings.length > 0) {
    // Newest reading per device; a late or replayed one never replaces a newer one.
    await tx.query(
      `INSERT INTO latest_readings (device_id, bin_id, uprn, ts, seq, fill_pct, temp_c, battery_v, status)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::bigint[], $6::real[], $7::real[], $8::real[], $9::text[])
       ON CONFLICT (device_id) DO UPDATE SET bin_id = excluded.bin_id, uprn = excluded.uprn, ts = excluded.ts, seq = excluded.seq,
         fill_pct = excluded.fill_pct, temp_c = excluded.temp_c, battery_v = excluded.battery_v, status = excluded.status
        WHERE latest_readings.ts < excluded.ts OR (latest_readings.ts = excluded.ts AND latest_readings.seq < excluded.seq)`,
      [col(newestReadings, (s) => s.deviceId), col(newestReadings, (s) => binding(s).binId), col(newestReadings, (s) => binding(s).uprn),
        col(newestReadings, iso), col(newestReadings, (s) => s.seq), col(newestReadings, (s) => reading(s).fillPct), col(newestReadings, (s) => reading(s).tempC ?? null),
        col(newestReadings, (s) => reading(s).batteryV ?? null), col(newestReadings, (s) => reading(s).status ?? null)],
    )
  }

  const lifts = accepted.filter((s) => s.kind === 'lift')
  const lift = (s: SeqItem) => s.body as LiftEvent
  // The lifted bin (and its household) is found by RFID tag; an unknown tag is kept as evidence.
  await insertAll(lifts,
    `INSERT INTO lift_events (ts, device_id, seq, vehicle_id, tag, bin_id, uprn, weight_kg, lat, lon, outcome)
     SELECT v.ts, v.device_id, v.seq, v.vehicle_id, v.tag, bn.bin_id, bn.uprn, v.weight_kg, v.lat, v.lon, v.outcome
       FROM unnest($1::timestamptz[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::real[], $7::float8[], $8::float8[], $9::text[])
            AS v(ts, device_id, seq, vehicle_id, tag, weight_kg, lat, lon, outcome)
       LEFT JOIN bins bn ON bn.rfid_tag = v.tag
     ON CONFLICT DO NOTHING`,
    [col(lifts, iso), col(lifts, (s) => s.deviceId), col(lifts, (s) => s.seq), col(lifts, (s) => binding(s).vehicleId),
      col(lifts, (s) => lift(s).tag), col(lifts, (s) => lift(s).weightKg ?? null), col(lifts, (s) => lift(s).lat), col(lifts, (s) => lift(s).lon), col(lifts, (s) => lift(s).outcome)])

  const positions = accepted.filter((s) => s.kind === 'position')
  const position = (s: SeqItem) => s.body as VehiclePosition
  await insertAll(positions,
    `INSERT INTO vehicle_positions (ts, device_id, seq, vehicle_id, lat, lon, speed_kmh, heading)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::bigint[], $4::text[], $5::float8[], $6::float8[], $7::real[], $8::real[])
     ON CONFLICT DO NOTHING`,
    [col(positions, iso), col(positions, (s) => s.deviceId), col(positions, (s) => s.seq), col(positions, (s) => binding(s).vehicleId),
      col(positions, (s) => position(s).lat), col(positions, (s) => position(s).lon), col(positions, (s) => position(s).speedKmh ?? null), col(positions, (s) => position(s).heading ?? null)])
  const newestPositions = newestPerDevice(positions.filter((s) => inserted.has(keyOf(s))))
  if (newestPositions.length > 0) {
    await tx.query(
      `INSERT INTO latest_positions (device_id, vehicle_id, ts, seq, lat, lon, speed_kmh, heading)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::float8[], $6::float8[], $7::real[], $8::real[])
       ON CONFLICT (device_id) DO UPDATE SET vehicle_id = excluded.vehicle_id, ts = excluded.ts, seq = excluded.seq, lat = excluded.lat,
         lon = excluded.lon, speed_kmh = excluded.speed_kmh, heading = excluded.heading
        WHERE latest_positions.ts < excluded.ts OR (latest_positions.ts = excluded.ts AND latest_positions.seq < excluded.seq)`,
      [col(newestPositions, (s) => s.deviceId), col(newestPositions, (s) => binding(s).vehicleId), col(newestPositions, iso), col(newestPositions, (s) => s.seq),
        col(newestPositions, (s) => position(s).lat), col(newestPositions, (s) => position(s).lon), col(newestPositions, (s) => position(s).speedKmh ?? null), col(newestPositions, (s) => position(s).heading ?? null)],
    )
  }
  return inserted
}

const keyOf = (s: SeqItem) => `${s.deviceId}\0${s.tsMs}\0${s.seq}`

/** The newest message of each device (by device time, then seq). */
function newestPerDevice(list: SeqItem[]): SeqItem[] {
  const newest = new Map<string, SeqItem>()
  for (const s of list) {
    const cur = newest.get(s.deviceId)
    if (!cur || s.tsMs > cur.tsMs || (s.tsMs === cur.tsMs && s.seq > cur.seq)) newest.set(s.deviceId, s)
  }
  return [...newest.values()]
}

/**
 * Online/offline transitions, in device-time order: each status that differs from the one before
 * it (stored, or earlier in this batch) is a transition and is recorded; a redelivered or repeated
 * status is not. An offline→online pair inside one batch therefore leaves both events.
 */
async function applyStatus(tx: Queryable, statusItems: { deviceId: string; online: boolean; ts: Date }[]): Promise<number> {
  if (statusItems.length === 0) return 0
  const ids = [...new Set(statusItems.map((s) => s.deviceId))]
  const { rows: current } = await tx.query<{ deviceId: string; online: boolean | null }>(
    `SELECT device_id AS "deviceId", online FROM devices WHERE device_id = ANY($1::text[])`, [ids])
  const state = new Map(current.map((r) => [r.deviceId, r.online]))
  const transitions: { deviceId: string; online: boolean; ts: Date }[] = []
  for (const s of [...statusItems].sort((a, b) => a.ts.getTime() - b.ts.getTime())) {
    if (state.get(s.deviceId) === s.online) continue
    state.set(s.deviceId, s.online)
    transitions.push(s)
  }
  if (transitions.length === 0) return 0
  await tx.query(
    `INSERT INTO device_status_events (device_id, ts, online) SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::bool[])`,
    [transitions.map((t) => t.deviceId), transitions.map((t) => t.ts.toISOString()), transitions.map((t) => t.online)],
  )
  const last = new Map(transitions.map((t) => [t.deviceId, t]))
  await tx.query(
    `UPDATE devices d SET online = v.online, online_since = v.ts
       FROM unnest($1::text[], $2::bool[], $3::timestamptz[]) AS v(device_id, online, ts)
      WHERE d.device_id = v.device_id`,
    [[...last.keys()], [...last.values()].map((t) => t.online), [...last.values()].map((t) => t.ts.toISOString())],
  )
  return transitions.length
}

async function quarantine(tx: Queryable, refused: { item: DecodedItem; reason: string; detail: string }[]): Promise<void> {
  // One row per distinct (topic, payload): a flood of identical bad messages stays one row.
  const distinct = new Map<string, { item: DecodedItem; reason: string; detail: string; sha: Buffer; times: number }>()
  for (const r of refused) {
    const sha = sha256(r.item.payload)
    const key = `${r.item.topic}\0${sha.toString('hex')}`
    distinct.set(key, { ...r, sha, times: (distinct.get(key)?.times ?? 0) + 1 })
  }
  const rows = [...distinct.values()]
  await tx.query(
    `INSERT INTO quarantine (topic, device_id, reason, detail, payload, payload_bytes, payload_sha256, times_seen, first_seen, last_seen)
     SELECT v.topic, v.device_id, v.reason, v.detail, decode(v.payload, 'hex'), v.bytes, decode(v.sha, 'hex'), v.times, v.received, v.received
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::int[], $9::timestamptz[]) AS v(topic, device_id, reason, detail, payload, bytes, sha, times, received)
     ON CONFLICT (topic, payload_sha256) DO UPDATE SET first_seen = least(quarantine.first_seen, excluded.first_seen), last_seen = greatest(quarantine.last_seen, excluded.last_seen), reason = excluded.reason, detail = excluded.detail,
       times_seen = quarantine.times_seen + excluded.times_seen`,
    [rows.map((r) => sanitizeText(r.item.topic, 512)), rows.map((r) => r.item.parsed?.deviceId ?? null), rows.map((r) => r.reason), rows.map((r) => sanitizeText(r.detail, 500)),
      rows.map((r) => r.item.payload.subarray(0, QUARANTINE_KEEP_BYTES).toString('hex')), rows.map((r) => r.item.payload.length), rows.map((r) => r.sha.toString('hex')), rows.map((r) => r.times),
      // When it arrived (a replayed past: when it was sent), so that the quarantine's times are the messages' own.
      rows.map((r) => r.item.receivedAt.toISOString())],
  )
}

/** PostgreSQL text cannot hold NUL; other control characters are kept escaped so nothing is lost silently. */
function sanitizeText(s: string, max: number): string {
  return s.slice(0, max).replace(/\0/g, '\\0')
}
