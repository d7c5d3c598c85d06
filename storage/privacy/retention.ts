// Retention: delete what is older than its configured period (docs/data-protection.md), idempotently,
// and say what went. Telemetry on TimescaleDB goes a chunk at a time with drop_chunks (whole chunks
// older than the cutoff: a few days more than the period may stay until the chunk ages out); on plain
// PostgreSQL, and for ordinary tables, it is DELETEd in batches so that no statement holds a long lock.
// The hourly roll-up of readings goes with the readings it summarises, so every tier answers alike.
import type { Database, Queryable } from '../database.ts'

export const RETENTION_JOB = 'retention'
const BATCH = 10_000
const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000

/** Days each kind of data is kept; 0 keeps it without limit. */
export interface RetentionDays {
  reportContacts: number
  auditLog: number
  readings: number
  positions: number
  /** Refused input (the quarantine table), counted from when it was last refused. */
  quarantine: number
}

export interface TelemetryRemoval {
  method: 'drop_chunks' | 'delete'
  rows: number
  chunks: number
  /** Everything before this is gone (a chunk edge, or the cutoff's hour). */
  before: string | null
}

export interface RetentionReport {
  days: RetentionDays
  cutoffs: Partial<Record<keyof RetentionDays, string>>
  reportContacts: number
  reportFreeText: number
  auditEntries: number
  readings: TelemetryRemoval | null
  hourlyRollup: number | null
  positions: TelemetryRemoval | null
  /** Quarantine entries removed. */
  quarantined: number
}

/** Repeat a bounded statement until it touches fewer rows than a batch; the total it touched. */
async function inBatches(db: Queryable, sql: string, params: unknown[]): Promise<number> {
  let total = 0
  for (;;) {
    const { rowCount } = await db.query(sql, [...params, BATCH])
    total += rowCount
    if (rowCount < BATCH) return total
  }
}

/** Drop the chunks of a hypertable that end before `cutoff`; rows counted first, for the record. */
async function dropChunks(db: Queryable, table: string, cutoff: Date): Promise<TelemetryRemoval> {
  const { rows } = await db.query<{ before: Date | null; chunks: number }>(
    `SELECT max(range_end) AS before, count(*)::int AS chunks FROM timescaledb_information.chunks WHERE hypertable_name = $1 AND range_end <= $2`, [table, cutoff])
  const before = rows[0]?.before ?? null
  if (!before) return { method: 'drop_chunks', rows: 0, chunks: 0, before: null }
  const { rows: n } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ts < $1`, [before])
  const { rowCount } = await db.query(`SELECT drop_chunks($1::regclass, older_than => $2::timestamptz)`, [table, cutoff])
  return { method: 'drop_chunks', rows: n[0]?.n ?? 0, chunks: rowCount, before: before.toISOString() }
}

async function deleteTelemetry(db: Queryable, table: string, before: Date): Promise<TelemetryRemoval> {
  const rows = await inBatches(db, `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ts < $1 LIMIT $2)`, [before])
  return { method: 'delete', rows, chunks: 0, before: before.toISOString() }
}

async function readings(db: Database, cutoff: Date): Promise<{ readings: TelemetryRemoval; hourlyRollup: number }> {
  const caps = db.capabilities
  const removal = caps.hypertables ? await dropChunks(db, 'bin_readings', cutoff) : await deleteTelemetry(db, 'bin_readings', new Date(Math.floor(cutoff.getTime() / HOUR_MS) * HOUR_MS))
  if (!removal.before) return { readings: removal, hourlyRollup: 0 }
  const before = new Date(removal.before)
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bin_readings_hourly WHERE bucket < $1`, [before])
  if (caps.continuousAggregates) {
    // Dropping raw chunks leaves the continuous aggregate as it was; refreshing up to the new start of
    // the raw data removes the hours it no longer has, and drop_chunks frees the emptied chunks.
    await db.query(`CALL refresh_continuous_aggregate('bin_readings_hourly', NULL, $1::timestamptz)`, [before])
    await db.query(`SELECT drop_chunks('bin_readings_hourly', older_than => $1::timestamptz)`, [before])
  } else {
    await inBatches(db, `DELETE FROM bin_readings_hourly WHERE ctid IN (SELECT ctid FROM bin_readings_hourly WHERE bucket < $1 LIMIT $2)`, [before])
    await db.query(`DELETE FROM rollup_invalidations WHERE name = 'bin_readings_hourly' AND bucket < $1`, [before])
  }
  return { readings: removal, hourlyRollup: rows[0]?.n ?? 0 }
}

/**
 * On the full edition migration 004 gave vehicle positions a retention policy of its own: keep it
 * equal to the configured period, so that TimescaleDB's scheduler and this job never disagree.
 */
async function alignPositionPolicy(db: Queryable, days: number): Promise<void> {
  const { rows } = await db.query<{ dropAfter: string | null }>(
    `SELECT config->>'drop_after' AS "dropAfter" FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' AND hypertable_name = 'vehicle_positions'`)
  const wanted = days > 0 ? `${days} days` : null
  if ((rows[0]?.dropAfter ?? null) === wanted) return
  await db.query(`SELECT remove_retention_policy('vehicle_positions', if_exists => true)`)
  if (wanted) await db.query(`SELECT add_retention_policy('vehicle_positions', drop_after => make_interval(days => $1))`, [days])
}

/** Apply every retention period as of `now`. Running it again removes nothing more. */
export async function applyRetention(db: Database, days: RetentionDays, now: Date): Promise<RetentionReport> {
  const cutoff = (d: number) => new Date(now.getTime() - d * DAY_MS)
  const report: RetentionReport = { days, cutoffs: {}, reportContacts: 0, reportFreeText: 0, auditEntries: 0, readings: null, hourlyRollup: null, positions: null, quarantined: 0 }

  if (days.reportContacts > 0) {
    const before = cutoff(days.reportContacts)
    report.cutoffs.reportContacts = before.toISOString()
    report.reportContacts = await inBatches(db,
      `DELETE FROM report_contacts WHERE report_id IN (
         SELECT c.report_id FROM report_contacts c JOIN missed_reports r ON r.report_id = c.report_id WHERE r.requested_at < $1 LIMIT $2)`, [before])
    report.reportFreeText = await inBatches(db,
      `UPDATE missed_reports SET description = NULL, bin_location_note = NULL, media_url = NULL WHERE report_id IN (
         SELECT report_id FROM missed_reports WHERE requested_at < $1 AND (description IS NOT NULL OR bin_location_note IS NOT NULL OR media_url IS NOT NULL) LIMIT $2)`, [before])
  }
  if (days.auditLog > 0) {
    const before = cutoff(days.auditLog)
    report.cutoffs.auditLog = before.toISOString()
    report.auditEntries = await inBatches(db, `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY id LIMIT $2)`, [before])
  }
  if (days.readings > 0) {
    const before = cutoff(days.readings)
    report.cutoffs.readings = before.toISOString()
    Object.assign(report, await readings(db, before))
  }
  if (db.capabilities.retentionPolicies) await alignPositionPolicy(db, days.positions)
  if (days.positions > 0) {
    const before = cutoff(days.positions)
    report.cutoffs.positions = before.toISOString()
    report.positions = db.capabilities.hypertables ? await dropChunks(db, 'vehicle_positions', before) : await deleteTelemetry(db, 'vehicle_positions', before)
  }
  // Refused input is for diagnosing devices, and a lift's payload holds a bin tag and a position.
  if (days.quarantine > 0) {
    const before = cutoff(days.quarantine)
    report.cutoffs.quarantine = before.toISOString()
    report.quarantined = await inBatches(db, `DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine WHERE last_seen < $1 ORDER BY id LIMIT $2)`, [before])
  }
  return report
}

/** The periods the last successful retention run applied, and when (null before the first run). */
export async function lastRetention(db: Queryable): Promise<{ at: Date; days: RetentionDays } | null> {
  const { rows } = await db.query<{ at: Date; detail: { days?: RetentionDays } | null }>(
    `SELECT finished_at AS at, detail FROM job_runs WHERE job = $1 AND status = 'done' AND detail ? 'days' ORDER BY finished_at DESC LIMIT 1`, [RETENTION_JOB])
  const row = rows[0]
  return row?.detail?.days ? { at: row.at, days: row.detail.days } : null
}
