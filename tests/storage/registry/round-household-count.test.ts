// A round's number of households is kept on the round (migration 132) so that the rounds list does
// not count every round's stops per request. It must stay equal to the stops counted, after every
// kind of registry change: an import, a second import that moves and removes stops, a round deleted
// with its stops, direct SQL and TRUNCATE. On the embedded engine and on the PostgreSQL server.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { importRegistry } from '../../../storage/registry/import.ts'
import { listRounds } from '../../../storage/registry/rounds.ts'
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.ts'
import { clearRegistry, smallCity, UPRN0 } from './fixture.ts'

const noCalendar = { calendar: false } as const

describe.each(['embedded', 'postgresql'] as const)('round household counts on %s', (engine) => {
  let server: TestDatabase | null = null
  let db: Database

  beforeAll(async () => {
    server = engine === 'postgresql' ? await createTestDatabase() : null
    db = await openDatabase({ url: server?.url, logger: silentLogger })
  })
  afterAll(async () => { await db?.close(); await server?.drop() })
  beforeEach(async () => clearRegistry(db))

  /** Each round's households as the list gives them, and as counted from its stops. */
  async function counts(): Promise<{ listed: Record<string, number>; counted: Record<string, number> }> {
    const listed = Object.fromEntries((await listRounds(db, { limit: 1000, offset: 0 })).map((r) => [r.roundId, r.households]))
    const { rows } = await db.query<{ roundId: string; n: number }>(
      `SELECT r.round_id AS "roundId", count(rh.uprn)::int AS n FROM rounds r LEFT JOIN round_households rh ON rh.round_id = r.round_id GROUP BY r.round_id`)
    return { listed, counted: Object.fromEntries(rows.map((r) => [r.roundId, r.n])) }
  }

  test('an import, and a second one that moves, adds and removes stops', async () => {
    expect((await importRegistry(db, smallCity(), noCalendar)).errors).toEqual([])
    expect(await counts()).toEqual({ listed: { 'mon-res': 6, 'mon-rec': 6, 'tue-gdn': 6 }, counted: { 'mon-res': 6, 'mon-rec': 6, 'tue-gdn': 6 } })

    // The same file again changes nothing; then mon-res keeps two stops (in a new order) and
    // tue-gdn gains a new household: the stale stops leave, the positions change in place.
    expect((await importRegistry(db, smallCity(), noCalendar)).errors).toEqual([])
    const city = smallCity(7)
    const report = await importRegistry(db, {
      households: city.households,
      roundStops: [
        { roundId: 'mon-res', uprn: UPRN0 + 1, position: 0 }, { roundId: 'mon-res', uprn: UPRN0, position: 1 },
        ...city.roundStops.filter((s) => s.roundId === 'tue-gdn'),
      ],
    }, noCalendar)
    expect(report.errors).toEqual([])
    expect(report.counts.roundStops.removed).toBe(4)
    expect(await counts()).toEqual({ listed: { 'mon-res': 2, 'mon-rec': 6, 'tue-gdn': 7 }, counted: { 'mon-res': 2, 'mon-rec': 6, 'tue-gdn': 7 } })
  })

  test('direct SQL: a stop moved to another round, stops deleted, a round deleted with its stops, TRUNCATE', async () => {
    expect((await importRegistry(db, smallCity(), noCalendar)).errors).toEqual([])
    await db.query(`DELETE FROM round_households WHERE round_id = 'tue-gdn' AND uprn = $1`, [UPRN0 + 5])
    await db.query(`UPDATE round_households SET round_id = 'tue-gdn' WHERE round_id = 'mon-res' AND uprn = $1`, [UPRN0 + 5])
    await db.query(`DELETE FROM round_households WHERE round_id = 'mon-res' AND uprn = $1`, [UPRN0])
    await db.query(`UPDATE round_households SET position = position + 10 WHERE round_id = 'mon-rec'`)
    expect(await counts()).toEqual({ listed: { 'mon-res': 4, 'mon-rec': 6, 'tue-gdn': 6 }, counted: { 'mon-res': 4, 'mon-rec': 6, 'tue-gdn': 6 } })

    await db.query(`DELETE FROM rounds WHERE round_id = 'mon-rec'`)
    await db.query(`INSERT INTO rounds (round_id, contract_id, name, stream, weekday, frequency, anchor_date)
      VALUES ('mon-rec', 'k1', 'Monday recycling', 'recycling', 1, 'fortnightly', '2026-01-12')`)
    await db.query(`INSERT INTO round_households (round_id, uprn, position) SELECT 'mon-rec', uprn, 0 FROM households WHERE uprn <= $1`, [UPRN0 + 2])
    expect(await counts()).toEqual({ listed: { 'mon-res': 4, 'mon-rec': 3, 'tue-gdn': 6 }, counted: { 'mon-res': 4, 'mon-rec': 3, 'tue-gdn': 6 } })

    await db.query(`TRUNCATE round_households`)
    expect(await counts()).toEqual({ listed: { 'mon-res': 0, 'mon-rec': 0, 'tue-gdn': 0 }, counted: { 'mon-res': 0, 'mon-rec': 0, 'tue-gdn': 0 } })
  })
})
