// The ward leaderboard reads per-month totals the database keeps as the ledger is appended to and as
// households change ward (migration 134). Its answer must stay the one computed from the ledger and
// the registry directly (wardLeaderboardDirect): after postings, adjusting entries that take points
// back, households moving ward or losing it, an erasure, a re-post by `kerbside analyse`, and TRUNCATE.
// On the embedded engine and on the PostgreSQL server.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { analyseRange } from '../../../analysis/rerun/analyse-range.ts'
import { wardLeaderboard, wardLeaderboardDirect } from '../../../analysis/rewards/leaderboard.ts'
import { postRewards } from '../../../analysis/rewards/ledger.ts'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { eraseHousehold } from '../../../storage/privacy/erasure.ts'
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.ts'
import { lift, seedTown, U } from './fixture.ts'

const MONTHS = ['2026-01', '2026-02', '2026-03'] as const
const NOW = new Date('2026-04-15T12:00:00Z')

describe.each(['embedded', 'postgresql'] as const)('kept leaderboard totals on %s', (engine) => {
  let server: TestDatabase | null = null
  let db: Database

  beforeAll(async () => {
    server = engine === 'postgresql' ? await createTestDatabase() : null
    db = await openDatabase({ url: server?.url, logger: silentLogger })
    await seedTown(db)
  })
  afterAll(async () => { await db?.close(); await server?.drop() })

  /** Each ward's kept totals of a month, and the same summed from the ledger by today's wards. */
  async function totals(month: string): Promise<{ kept: unknown[]; direct: unknown[] }> {
    const kept = await db.query(
      `SELECT ward, participating, points::int AS points, kg::float8 AS kg FROM reward_ward_months WHERE period = $1 AND participating > 0 ORDER BY ward`, [`${month}-01`])
    const direct = await db.query(
      `WITH m AS (SELECT uprn, sum(points) AS points FROM reward_ledger WHERE period = $1 GROUP BY uprn),
            k AS (SELECT DISTINCT ON (uprn) uprn, (evidence->>'kg')::numeric AS kg FROM reward_ledger
                   WHERE period = $1 AND rule = 'recycled_weight' ORDER BY uprn, entry_id DESC)
       SELECT h.ward, count(*)::int AS participating, sum(m.points)::int AS points, coalesce(sum(k.kg), 0)::float8 AS kg
         FROM m JOIN households h ON h.uprn = m.uprn LEFT JOIN k ON k.uprn = m.uprn
        WHERE h.ward IS NOT NULL GROUP BY h.ward ORDER BY h.ward`, [`${month}-01`])
    return { kept: kept.rows, direct: direct.rows }
  }

  /** Every month's leaderboard and totals as kept equal the direct computation; returns March's. */
  async function expectSameAsDirect() {
    for (const month of MONTHS) {
      const { kept, direct } = await totals(month)
      expect(kept).toEqual(direct)
      expect(await wardLeaderboard(db, month)).toEqual(await wardLeaderboardDirect(db, month))
    }
    return wardLeaderboard(db, '2026-03')
  }

  test('after posting January to March', async () => {
    await postRewards(db, { from: '2026-01', now: NOW })
    const march = await expectSameAsDirect()
    // The worked example of docs/rewards.md: North lists A, B, C, D (G has only a communal bin).
    expect(march.wards.map((w) => [w.ward, w.participating])).toEqual([['South', 2], ['North', 4]])
    expect((await totals('2026-03')).kept).not.toEqual([])
  })

  test('late data: adjusting entries that add points and take them back (contamination, a bin-day no longer presented)', async () => {
    // A's recycling bin found contaminated on 24 March, the day it was lifted (−25, and the bin-day is
    // no longer presented: a presentation adjustment of −2), B recycles 30 kg more.
    await lift(db, U.A, 'A-rec', '2026-03-24T08:05:00Z', 'contaminated', null)
    await lift(db, U.B, 'B-rec', '2026-03-24T08:00:00Z', 'collected', 30.0)
    const [posting] = await postRewards(db, { from: '2026-03', now: NOW })
    expect(posting!.adjustments).toBeGreaterThan(0)
    const { rows: [negative] } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM reward_ledger WHERE period = '2026-03-01' AND kind = 'adjustment' AND points < 0`)
    expect(negative!.n).toBeGreaterThan(0)
    await expectSameAsDirect()
  })

  test('households moving ward, to a new ward, and losing their ward; a statement that changes no ward', async () => {
    const before = await wardLeaderboard(db, '2026-03')
    await db.query(`UPDATE households SET address = upper(address)`)
    expect(await wardLeaderboard(db, '2026-03')).toEqual(before)
    await db.query(`UPDATE households SET ward = 'South' WHERE uprn = $1`, [U.A])
    await db.query(`UPDATE households SET ward = CASE uprn WHEN $1::bigint THEN 'East' ELSE NULL END WHERE uprn IN ($1, $2)`, [U.B, U.C])
    const moved = await expectSameAsDirect()
    expect(moved).not.toEqual(before)
    expect(moved.wards.find((w) => w.ward === 'South')?.participating).toBe(3)
    // And back again, in one statement with households that keep their ward.
    await db.query(`UPDATE households SET ward = CASE uprn WHEN $1::bigint THEN 'North' WHEN $2::bigint THEN 'North' WHEN $3::bigint THEN 'North' ELSE ward END`, [U.A, U.B, U.C])
    expect(await expectSameAsDirect()).toEqual(before)
  })

  test('an erasure changes nothing on the leaderboard (entries and ward are kept)', async () => {
    const before = await wardLeaderboard(db, '2026-03')
    const erased = await eraseHousehold(db, { uprn: U.A, actor: { actor: 'test', actorName: 'Test', role: 'admin' }, includeAssistedCollection: true })
    expect(erased).not.toBeNull()
    expect(await expectSameAsDirect()).toEqual(before)
  })

  test('a re-post by kerbside analyse after late lifts', async () => {
    await lift(db, U.F, 'F-rec', '2026-03-12T08:00:00Z', 'collected', 18.5)
    await lift(db, U.D, 'D-res', '2026-03-13T08:00:00Z', 'collected', 4.0)
    const report = await analyseRange(db, { from: '2026-03-01', to: '2026-03-31', now: NOW, lockWaitMs: 1000, lockPollMs: 50 })
    expect(report.rewards.map((r) => r.month)).toEqual(['2026-03'])
    expect(report.rewards[0]!.entries).toBeGreaterThan(0)
    await expectSameAsDirect()
    // Nothing new: nothing changes.
    const again = await analyseRange(db, { from: '2026-03-01', to: '2026-03-31', now: NOW, lockWaitMs: 1000, lockPollMs: 50 })
    expect(again.rewards[0]!.entries).toBe(0)
    await expectSameAsDirect()
  })

  test('TRUNCATE of the registry (cascading to the ledger) leaves no totals', async () => {
    await db.query(`TRUNCATE households CASCADE`)
    const { rows } = await db.query<{ n: number }>(`SELECT (SELECT count(*) FROM reward_ward_months) + (SELECT count(*) FROM reward_household_months) AS n`)
    expect(Number(rows[0]!.n)).toBe(0)
    await expectSameAsDirect()
  })
})
