// The daily retention job on each storage tier of the embedded database (TimescaleDB full edition,
// Apache edition, plain PostgreSQL): with the default periods it removes reporters' details and free
// text, old audit entries, old readings with their hourly roll-up, and old vehicle positions; it
// records what it removed; a second run removes nothing more; 0 keeps data without limit.
import { afterEach, describe, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import { startScheduler } from '../../analysis/scheduler.ts'
import { loadConfig } from '../../core/config.ts'
import { silentLogger } from '../../core/log.ts'
import type { Database, Tier } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { lastRetention, type RetentionReport } from '../../storage/privacy/retention.ts'
import { refreshReadingsRollup } from '../../storage/readings.ts'
import { seedMinimalRegistry } from '../helpers/stack.ts'

const NOW = new Date('2026-11-24T03:10:00Z')
const DAY = 86_400_000
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString()
const UPRN = 100000000001
let db: Database | undefined
afterEach(async () => { await db?.close(); db = undefined })

async function seed(d: Database): Promise<void> {
  await seedMinimalRegistry(d)
  for (const [days, who] of [[100, 'Old Reporter'], [10, 'New Reporter']] as const) {
    const { rows } = await d.query<{ id: number }>(
      `INSERT INTO missed_reports (service_code, stream, uprn, located_by, source, requested_at, description, bin_location_note) VALUES ('missed_residual', 'residual', $1, 'uprn', 'test', $2, $3, 'by the gate') RETURNING report_id AS id`,
      [UPRN, ago(days), `written by ${who}`])
    await d.query(`INSERT INTO report_contacts (report_id, first_name, email) VALUES ($1, $2, 'someone@example.org')`, [rows[0]!.id, who])
  }
  for (const days of [800, 731, 10]) await d.query(`INSERT INTO audit_log (at, actor, actor_name, role, action, uprn, status) VALUES ($1, 'k', 'CRM', 'crm', 'GET /api/v1/households/:uprn', $2, 200)`, [ago(days), UPRN])
  for (const [i, days] of [500, 410, 300, 1].entries()) {
    await d.query(`INSERT INTO bin_readings (ts, device_id, seq, bin_id, uprn, fill_pct) VALUES ($1, 's-1', $2, 'bin-1', $3, 50)`, [ago(days), i + 1, UPRN])
  }
  // Refused input last seen 45 and 5 days ago (one of them first seen long before).
  for (const [i, [first, last]] of [[120, 45], [200, 5]].entries()) {
    await d.query(`INSERT INTO quarantine (topic, device_id, reason, payload, payload_bytes, payload_sha256, first_seen, last_seen) VALUES ($1::text, 's-1', 'schema', '\\x7b7d', 2, sha256(convert_to($1::text, 'UTF8')), $2, $3)`,
      [`kerbside/v1/bins/s-${i}/reading`, ago(first!), ago(last!)])
  }
  for (const [i, days] of [100, 10].entries()) await d.query(`INSERT INTO vehicle_positions (ts, device_id, seq, vehicle_id, lat, lon) VALUES ($1, 'u-1', $2, 'rcv-1', 53.4, -2.99)`, [ago(days), i + 1])
  await refreshReadingsRollup(d, { now: NOW })
}

const count = async (d: Database, sql: string) => (await d.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`)).rows[0]!.n
const scheduler = (d: Database, env: Record<string, string> = {}) =>
  startScheduler({ db: d, logger: silentLogger, registry: new Registry(), timezone: 'Europe/London', autostart: false, config: loadConfig(env) })

describe.each<Tier>(['timescaledb', 'timescaledb-apache', 'postgresql'])('on the %s tier', (tier) => {
  test('the default periods remove what is older, record it, and a second run removes nothing more', async () => {
    db = await openDatabase({ logger: silentLogger, tierCeiling: tier })
    expect(db.capabilities.tier).toBe(tier)
    await seed(db)
    expect(await count(db, 'bin_readings_hourly')).toBe(4)
    const jobs = scheduler(db)
    const run = await jobs.runNow('retention', NOW)
    expect(run.status).toBe('done')
    const report = run.detail as RetentionReport
    expect(report.days).toEqual({ reportContacts: 90, auditLog: 730, readings: 400, positions: 90, quarantine: 30 })
    expect(report).toMatchObject({ reportContacts: 1, reportFreeText: 1, auditEntries: 2, hourlyRollup: 2, quarantined: 1 })
    expect(report.readings).toMatchObject({ method: tier === 'postgresql' ? 'delete' : 'drop_chunks', rows: 2 })
    expect(report.positions).toMatchObject({ method: tier === 'postgresql' ? 'delete' : 'drop_chunks', rows: 1 })

    // Reporters' details and free text go with time; the reports stay.
    const reports = (await db.query<{ description: string | null; note: string | null; contact: string | null }>(
      `SELECT r.description, r.bin_location_note AS note, c.first_name AS contact FROM missed_reports r LEFT JOIN report_contacts c USING (report_id) ORDER BY r.requested_at`)).rows
    expect(reports).toEqual([{ description: null, note: null, contact: null }, { description: 'written by New Reporter', note: 'by the gate', contact: 'New Reporter' }])
    expect(await count(db, 'audit_log')).toBe(1)
    // Readings and their hourly roll-up go together: the roll-up never covers hours without readings.
    expect(await count(db, 'bin_readings')).toBe(2)
    expect(await count(db, 'bin_readings_hourly')).toBe(2)
    expect(await count(db, 'vehicle_positions')).toBe(1)
    // Quarantine goes by when the input was last refused: the one still being refused stays.
    expect((await db.query(`SELECT device_id, topic FROM quarantine`)).rows).toEqual([{ device_id: 's-1', topic: 'kerbside/v1/bins/s-1/reading' }])
    expect((await db.query(`SELECT status, detail->'auditEntries' AS audit FROM job_runs WHERE job = 'retention'`)).rows).toEqual([{ status: 'done', audit: 2 }])
    expect(await lastRetention(db)).toMatchObject({ days: report.days })

    // The same day again is skipped; the next day finds nothing more to remove.
    expect((await jobs.runNow('retention', NOW)).status).toBe('skipped')
    const next = (await jobs.runNow('retention', new Date(NOW.getTime() + DAY))).detail as RetentionReport
    expect(next).toMatchObject({ reportContacts: 0, reportFreeText: 0, auditEntries: 0, hourlyRollup: 0, readings: { rows: 0 }, positions: { rows: 0 }, quarantined: 0 })
    jobs.stop()
  })

  test('0 keeps data without limit', async () => {
    db = await openDatabase({ logger: silentLogger, tierCeiling: tier })
    await seed(db)
    const jobs = scheduler(db, { REPORT_CONTACT_RETENTION_DAYS: '0', AUDIT_LOG_RETENTION_DAYS: '0', READINGS_RETENTION_DAYS: '0', POSITION_RETENTION_DAYS: '0', QUARANTINE_RETENTION_DAYS: '0' })
    const report = (await jobs.runNow('retention', NOW)).detail as RetentionReport
    expect(report).toMatchObject({ cutoffs: {}, reportContacts: 0, auditEntries: 0, readings: null, positions: null, quarantined: 0 })
    expect([await count(db, 'report_contacts'), await count(db, 'audit_log'), await count(db, 'bin_readings'), await count(db, 'vehicle_positions'), await count(db, 'quarantine')]).toEqual([2, 3, 4, 2, 2])
    jobs.stop()
  })
})

describe('TimescaleDB retention policy', () => {
  test('the vehicle-position policy of migration 004 follows POSITION_RETENTION_DAYS, and goes when it is 0', async () => {
    db = await openDatabase({ logger: silentLogger })
    const policy = async () => (await db!.query<{ dropAfter: string }>(
      `SELECT config->>'drop_after' AS "dropAfter" FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' AND hypertable_name = 'vehicle_positions'`)).rows.map((r) => r.dropAfter)
    expect(await policy()).toEqual(['400 days'])
    for (const [days, day, expected] of [['120', 0, ['120 days']], ['0', 1, []]] as const) {
      const jobs = scheduler(db, { POSITION_RETENTION_DAYS: days })
      await jobs.runNow('retention', new Date(NOW.getTime() + day * DAY))
      jobs.stop()
      expect(await policy()).toEqual(expected)
    }
  })
})
