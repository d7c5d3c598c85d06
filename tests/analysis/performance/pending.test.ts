// Issue 17: KPI `pending` counted from the calendar — collections due in the period, not cancelled,
// not decided — not from outcome rows (a round still out, or a day the outcome job has not reached,
// has no rows). Hand-computed on contract P, one Monday round of six households:
//   Mon 2 Mar: 3 decided (collected, missed, collected), 1 decided pending, 1 with no outcome, 1 cancelled
//              → scheduled 3, pending 2 (the cancelled one counts nowhere)
//   Mon 9 Mar: 6 due, none decided (the round is still out) → pending 6
// so 2–9 March: scheduled 3, pending 8. Rolled up, the figures hold; deciding a collection or adding
// one to the calendar changes them at once.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import { contractPerformance } from '../../../analysis/performance/performance.ts'
import { refreshRollup } from '../../../analysis/performance/rollup.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { addCollection, createContract, createHousehold, createRound } from '../../helpers/outcome-fixture.ts'

let db: Database
const U = [700000000001, 700000000002, 700000000003, 700000000004, 700000000005, 700000000006]
const NOW = new Date('2026-03-09T12:00:00Z')
const RANGE = { from: '2026-03-02', to: '2026-03-09' }

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await createContract(db, 'P')
  await createRound(db, { roundId: 'P-MON', contractId: 'P', weekday: 1 })
  for (const [k, uprn] of U.entries()) await createHousehold(db, { uprn, rounds: { 'P-MON': k } })
  await addCollection(db, { uprn: U[0]!, roundId: 'P-MON', contractId: 'P', due: '2026-03-02', outcome: 'collected', liftTs: '2026-03-02T08:00:00Z' })
  await addCollection(db, { uprn: U[1]!, roundId: 'P-MON', contractId: 'P', due: '2026-03-02', outcome: 'missed' })
  await addCollection(db, { uprn: U[2]!, roundId: 'P-MON', contractId: 'P', due: '2026-03-02', outcome: 'collected', liftTs: '2026-03-02T09:00:00Z' })
  await addCollection(db, { uprn: U[3]!, roundId: 'P-MON', contractId: 'P', due: '2026-03-02', outcome: 'pending' })
  await calendarOnly(U[4]!, '2026-03-02')
  await calendarOnly(U[5]!, '2026-03-02', true)
  for (const uprn of U) await calendarOnly(uprn, '2026-03-09')
})
afterAll(async () => { await db?.close() })

async function calendarOnly(uprn: number, due: string, cancelled = false): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO scheduled_collections (uprn, stream, round_id, scheduled_date, due_date, cancelled) VALUES ($1, 'residual', 'P-MON', $2, $2, $3) RETURNING collection_id AS id`,
    [uprn, due, cancelled],
  )
  return rows[0]!.id
}

const perf = (now = NOW) => contractPerformance(db, 'P', { ...RANGE, now })

test('pending is the collections due in the period, not cancelled and not decided, with or without an outcome row', async () => {
  const p = await perf()
  expect(p.figures).toMatchObject({ scheduled: 3, pending: 8, collected: 2, missed: 1 })
  expect(p.source.liveDays).toBe(8)
})

test('a rolled-up day keeps the calendar count, and changes when a collection is decided or added to the calendar', async () => {
  await refreshRollup(db, { now: NOW, contractId: 'P', ensure: RANGE })
  const stored = await perf()
  expect(stored.source).toEqual({ rolledUpDays: 8, liveDays: 0 })
  expect(stored.figures).toMatchObject({ scheduled: 3, pending: 8 })

  // The outcome job decides household 5's collection of 2 March: missed. One pending fewer, one scheduled more.
  const { rows: [c5] } = await db.query<{ id: number }>(`SELECT collection_id AS id FROM scheduled_collections WHERE uprn = $1 AND due_date = '2026-03-02'`, [U[4]])
  await db.query(
    `INSERT INTO collection_outcomes (collection_id, uprn, stream, round_id, contract_id, due_date, outcome) VALUES ($1, $2, 'residual', 'P-MON', 'P', '2026-03-02', 'missed')`,
    [c5!.id, U[4]],
  )
  expect((await perf()).figures).toMatchObject({ scheduled: 4, pending: 7, missed: 2 })

  // A registry correction adds a seventh collection on 9 March: pending 8 again, without a roll-up run.
  await createHousehold(db, { uprn: 700000000007, rounds: { 'P-MON': 6 } })
  await calendarOnly(700000000007, '2026-03-09')
  const after = await perf()
  expect(after.figures).toMatchObject({ scheduled: 4, pending: 8 })
  expect(after.source.liveDays).toBe(2) // the two days just changed are read live until the roll-up catches up

  // Cancelling one of 9 March before it was decided takes it out of pending.
  await db.query(`UPDATE scheduled_collections SET cancelled = true WHERE uprn = 700000000007`)
  await refreshRollup(db, { now: NOW, contractId: 'P' })
  expect((await perf()).figures).toMatchObject({ scheduled: 4, pending: 7 })
})
