// The ranked league is kept while what it was computed from holds (analysis/performance/league-cache.ts):
// asked again, the same rows come back without being computed again; a day rolled up again (even with
// the same `now`), a round renamed, or the contract's terms changed give the new figures at once; a
// day computed live is never kept. On the embedded engine and on the PostgreSQL server.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { roundLeague } from '../../../analysis/performance/performance.ts'
import { refreshRollup } from '../../../analysis/performance/rollup.ts'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.ts'
import { MARCH, NOW, seedScenario } from './scenario.ts'

describe.each(['embedded', 'postgresql'] as const)('the kept league on %s', (engine) => {
  let server: TestDatabase | null = null
  let db: Database
  let ids: Record<string, number>

  beforeAll(async () => {
    server = engine === 'postgresql' ? await createTestDatabase() : null
    db = await openDatabase({ url: server?.url, logger: silentLogger })
    ids = (await seedScenario(db, 'K')).ids
  })
  afterAll(async () => { await db?.close(); await server?.drop() })

  const league = (page: { limit?: number; offset?: number } = {}) => roundLeague(db, 'K', { ...MARCH, now: NOW, ...page })
  const missed = async () => Object.fromEntries((await league()).rounds.map((r) => [r.roundId, r.figures.missed]))

  test('kept once every day is rolled up, and computed again when a day, a round or the terms change', async () => {
    // Live days: computed every time.
    const live = await league()
    expect((await league()).rounds[0]).not.toBe(live.rounds[0])
    await refreshRollup(db, { now: NOW, contractId: 'K', ensure: MARCH })
    const first = await league()
    expect(first.rounds.map((r) => r.roundId)).toEqual(live.rounds.map((r) => r.roundId))
    expect(first.rounds).toEqual(live.rounds)
    // Rolled up: the same rows again, not computed again; any page of them.
    expect((await league()).rounds[0]).toBe(first.rounds[0])
    expect((await league({ limit: 1, offset: 1 })).rounds[0]).toBe(first.rounds[1])
    const before = await missed()

    // An outcome reclassified: its day is live until rolled up again, with the same `now`.
    await db.query(`UPDATE collection_outcomes SET outcome = 'collected', lift_ts = '2026-03-09T15:00:00Z' WHERE collection_id = $1`, [ids['A-0309-h10']])
    expect(await missed()).toEqual({ ...before, 'K-A': before['K-A']! - 1 })
    await refreshRollup(db, { now: NOW, contractId: 'K' })
    expect(await missed()).toEqual({ ...before, 'K-A': before['K-A']! - 1 })
    await db.query(`UPDATE collection_outcomes SET outcome = 'missed', lift_ts = NULL WHERE collection_id = $1`, [ids['A-0309-h10']])
    await refreshRollup(db, { now: NOW, contractId: 'K' })
    expect(await missed()).toEqual(before)

    // A round renamed, and the contract's terms changed.
    await db.query(`UPDATE rounds SET name = 'Renamed round' WHERE round_id = 'K-B'`)
    expect((await league()).rounds.find((r) => r.roundId === 'K-B')!.name).toBe('Renamed round')
    const points = (await league()).totals.points.misses
    await db.query(`UPDATE contracts SET points_per_miss = points_per_miss + 1 WHERE contract_id = 'K'`)
    const after = await league()
    expect(after.totals.points.misses).toBe(points + after.totals.figures.missed)
    expect(after.rounds.map((r) => r.points.misses)).toEqual(after.rounds.map((r) => r.figures.missed * (points / after.totals.figures.missed + 1)))
  })
})
