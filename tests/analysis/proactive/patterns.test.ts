// Why it keeps happening: hand-made histories of a few properties and one street, each with a known
// recurring cause, and the pattern and action expected for each.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { repeatPatterns, type RepeatPlace } from '../../../analysis/proactive/patterns.ts'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { addCollection, createContract, createHousehold, createRound } from '../../helpers/outcome-fixture.ts'

let db: Database
let places: RepeatPlace[]
const K = 'K-PAT'
const MONDAYS = ['2026-03-02', '2026-03-09', '2026-03-16', '2026-03-23']

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await createContract(db, K)
  await createRound(db, { roundId: 'R1', contractId: K })
  await createRound(db, { roundId: 'R2', contractId: K, stream: 'recycling', weekday: 2 })
  // 1: no access twice; 2: not put out three times, not assisted; 3: assisted, not put out twice;
  // 4: missed at the end of the round twice; 5: the same crew exception (contaminated) twice, same time;
  // 6: one miss only; Back Lane 10–13: the street missed on three days (not the same households each time).
  for (let i = 1; i <= 6; i++) await createHousehold(db, { uprn: 100 + i, street: 'High Street', assisted: i === 3, rounds: { R1: i * 10, R2: i } })
  for (let i = 10; i <= 13; i++) await createHousehold(db, { uprn: 100 + i, street: 'Back Lane', rounds: { R1: 40 + i } })
  const at = (due: string, hhmm: string) => new Date(`${due}T${hhmm}:00Z`).toISOString()
  const ex = (uprn: number, due: string, code: string, hhmm = '09:00') => addCollection(db, { uprn, roundId: 'R1', contractId: K, due, outcome: 'crew_exception', exceptionCode: code, liftTs: at(due, hhmm), liftVehicleId: 'v-R1' })
  const miss = (uprn: number, due: string) => addCollection(db, { uprn, roundId: 'R1', contractId: K, due, outcome: 'missed' })
  await ex(101, MONDAYS[0]!, 'no_access')
  await ex(101, MONDAYS[2]!, 'no_access')
  for (const d of MONDAYS.slice(0, 3)) await ex(102, d, 'not_presented')
  await ex(103, MONDAYS[0]!, 'not_presented')
  await ex(103, MONDAYS[1]!, 'not_presented')
  await miss(104, MONDAYS[1]!)
  await miss(104, MONDAYS[3]!)
  await ex(105, MONDAYS[0]!, 'contaminated', '10:05')
  await ex(105, MONDAYS[3]!, 'contaminated', '10:20')
  await miss(106, MONDAYS[0]!)
  await miss(110, MONDAYS[0]!)
  await miss(111, MONDAYS[1]!)
  await miss(112, MONDAYS[2]!)
  places = await repeatPatterns(db, { from: '2026-03-01', to: '2026-03-31', contractId: K })
}, 120_000)
afterAll(async () => { await db?.close() })

const property = (uprn: number) => places.find((p) => p.scope === 'property' && p.uprn === uprn)

test('no access twice: an access note', () => {
  expect(property(101)).toMatchObject({ failures: 2, action: 'access_note', patterns: expect.arrayContaining([expect.objectContaining({ kind: 'access', occurrences: 2 })]) })
})

test('bin not put out again and again: an assisted collection, or a review of one already assisted', () => {
  expect(property(102)).toMatchObject({ failures: 3, action: 'assisted_collection' })
  expect(property(103)).toMatchObject({ assisted: true, action: 'review_assisted_collection' })
})

test('missed at the end of the round: a round change', () => {
  expect(property(104)).toMatchObject({ failures: 2, action: 'round_change', patterns: expect.arrayContaining([expect.objectContaining({ kind: 'end_of_round' })]) })
})

test('the same exception at the same time of day', () => {
  const p = property(105)!
  expect(p.patterns.map((x) => x.kind).sort()).toEqual(['same_exception', 'same_time', 'same_vehicle'])
  expect(p.patterns.find((x) => x.kind === 'same_exception')!.detail).toBe('contaminated')
  expect(p.patterns.find((x) => x.kind === 'same_time')!.detail).toBe('between 10:05 and 10:20')
})

test('a single miss is not a repeat; a street missed on three days is', () => {
  expect(property(106)).toBeUndefined()
  expect(places.find((p) => p.scope === 'street' && p.street === 'Back Lane')).toMatchObject({ roundId: 'R1', failures: 3, days: 3, action: 'round_change' })
})
