// LoRaWAN frames worth a note (migration 111): frames that gave no reading, and readings stored with
// a flag. A frame that gave no reading — a sensor reporting no echo or "No Sensor", a Milesight
// attribute frame, a payload the codec cannot read — was still heard, with its frame counter and so
// its seq: it is accounted for in the device's sequence state here, in one transaction under the
// same device-row lock the ingest pipeline takes (ingest/write-batch.ts), with the same rules
// (ingest/sequence.ts). So the next reading does not open a gap for it, and a gap that a later
// reading already opened for it is filled. The note's primary key (device, seq) makes a copy of the
// frame (another gateway, a retry, a backfill) change nothing.
import { gapFor, planSequence } from '../ingest/sequence.ts'
import type { Database, Queryable } from './database.ts'

export interface FrameNote {
  seq: number
  ts: Date
  stored: boolean
  reason: string | null
  flags: string[]
}

export type SeqAccount = 'advanced' | 'gap_filled' | 'already_counted' | 'duplicate' | 'unknown_device'

/**
 * A frame that gave no reading: noted, and its seq counted as heard. Returns what happened to the
 * device's sequence: `advanced` (it was the newest seq; a gap before it opens as for a reading),
 * `gap_filled`, `already_counted` (at or below the newest seq and in no open gap), `duplicate` (this
 * frame was noted before).
 */
export async function accountFrameWithoutReading(db: Database, f: { deviceId: string; seq: number; ts: Date; reason: string; flags: string[] }): Promise<SeqAccount> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ lastSeq: number | null }>(`SELECT last_seq AS "lastSeq" FROM devices WHERE device_id = $1 FOR UPDATE`, [f.deviceId])
    if (!rows[0]) return 'unknown_device'
    const noted = await tx.query(
      `INSERT INTO lorawan_frame_notes (device_id, seq, ts, stored, reason, flags) VALUES ($1, $2, $3, false, $4, $5::text[]) ON CONFLICT DO NOTHING`,
      [f.deviceId, f.seq, f.ts.toISOString(), f.reason, f.flags])
    if (noted.rowCount === 0) return 'duplicate'
    const plan = planSequence(rows[0].lastSeq, [{ seq: f.seq, tsMs: f.ts.getTime() }])
    if (plan.advanced) {
      if (plan.newGaps.length > 0) {
        await tx.query(
          `INSERT INTO device_gaps (device_id, after_seq, before_seq, missing, lead_in)
           SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[]) ON CONFLICT (device_id, after_seq) DO NOTHING`,
          [f.deviceId, plan.newGaps.map((g) => g.afterSeq), plan.newGaps.map((g) => g.beforeSeq), plan.newGaps.map((g) => g.missing), plan.newGaps.map((g) => g.leadIn === true)])
      }
      await tx.query(`UPDATE devices SET last_seq = $2, last_ts = $3 WHERE device_id = $1 AND (last_seq IS NULL OR last_seq < $2)`, [f.deviceId, f.seq, f.ts.toISOString()])
      return 'advanced'
    }
    const { rows: gaps } = await tx.query<{ afterSeq: number; beforeSeq: number; missing: number }>(
      `SELECT after_seq AS "afterSeq", before_seq AS "beforeSeq", missing FROM device_gaps WHERE device_id = $1 AND missing > 0 AND after_seq < $2 AND before_seq > $2`,
      [f.deviceId, f.seq])
    const gap = gapFor(gaps, f.seq)
    if (!gap) return 'already_counted'
    await tx.query(`UPDATE device_gaps SET missing = greatest(missing - 1, 0) WHERE device_id = $1 AND after_seq = $2`, [f.deviceId, gap.afterSeq])
    return 'gap_filled'
  })
}

/** A reading stored with flags (its value clamped): noted, once per frame. */
export async function noteFlaggedReading(db: Queryable, f: { deviceId: string; seq: number; ts: Date; flags: string[] }): Promise<void> {
  await db.query(
    `INSERT INTO lorawan_frame_notes (device_id, seq, ts, stored, flags) VALUES ($1, $2, $3, true, $4::text[]) ON CONFLICT DO NOTHING`,
    [f.deviceId, f.seq, f.ts.toISOString(), f.flags])
}

/** The device's latest noted frames, newest first. */
export async function recentFrameNotes(db: Queryable, deviceId: string, limit = 20): Promise<FrameNote[]> {
  const { rows } = await db.query<FrameNote>(
    `SELECT seq, ts, stored, reason, flags FROM lorawan_frame_notes WHERE device_id = $1 ORDER BY ts DESC, seq DESC LIMIT $2`, [deviceId, limit])
  return rows
}
