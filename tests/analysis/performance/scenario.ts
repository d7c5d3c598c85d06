// The hand-computed scenario the performance tests share: contract K over March 2026, evaluated at
// noon on 20 March. Every expected figure in the tests is worked out by hand from this table.
//
//   round A (residual, vehicle v-A)                 round B (recycling, vehicle v-B)
//   02 Mar h1–h5 collected, h6 contaminated,        03 Mar h1–h3 collected, h4 not_presented,
//          h7 no_access, h8 collected late,                h9 missed (reported, deadline 04 Mar passed),
//          h9 missed (reported, deadline 03 Mar),          h7 missed (unreported; a miss 84 days before),
//          h10 rectified in time, h12 CANCELLED            h8 missed (unreported; a miss 85 days before)
//   09 Mar h1–h4 collected, h9 rectified late,
//          h10 missed (unreported)
//   16 Mar h3 rectified in time (a miss on 05 Jan)
//   19 Mar h1 collected, h5 missed (deadline 21 Mar: awaiting)
//   20 Mar h2 pending
//
// Reports: h2 residual 01 Mar 00:30 (valid), h9 residual 02 Mar (valid), h1 residual 02 Mar (invalid),
// h9 recycling 03 Mar (valid), h4 recycling 03 Mar (invalid), h5 residual 19 Mar (pending); and two
// outside March in London time: 28 Feb 23:30 GMT and 31 Mar 23:30 UTC (= 1 Apr 00:30 BST).
import type { Queryable } from '../../../storage/database.ts'
import { addCollection, addReport, createContract, createHousehold, createRound, type FixtureTerms } from '../../helpers/outcome-fixture.ts'

export const NOW = new Date('2026-03-20T12:00:00Z')
export const MARCH = { from: '2026-03-01', to: '2026-03-31' }
export const uprn = (h: number) => 100_000_000_000 + h

export async function seedScenario(db: Queryable, contractId = 'K', terms: FixtureTerms = {}): Promise<{ ids: Record<string, number> }> {
  await createContract(db, contractId, terms)
  const A = `${contractId}-A`
  const B = `${contractId}-B`
  await createRound(db, { roundId: A, contractId, stream: 'residual', vehicleId: `${contractId}-v-A`, weekday: 1 })
  await createRound(db, { roundId: B, contractId, stream: 'recycling', vehicleId: `${contractId}-v-B`, weekday: 2 })
  const base = contractId === 'K' ? 0 : 1000
  const u = (h: number) => uprn(base + h)
  for (let h = 1; h <= 12; h++) {
    await createHousehold(db, { uprn: u(h), street: h <= 6 ? 'Mill Lane' : 'Park Road', ward: h <= 6 ? 'North' : 'South', lat: 53.40 + h * 0.001, lon: -2.99, assisted: h === 9, rounds: { [A]: h, [B]: h } })
  }
  const ids: Record<string, number> = {}
  const add = async (key: string, c: Omit<Parameters<typeof addCollection>[1], 'contractId'>) => { ids[key] = await addCollection(db, { contractId, ...c }) }
  const lift = (day: string, hour: number) => `${day}T${String(hour).padStart(2, '0')}:00:00Z`

  for (let h = 1; h <= 5; h++) await add(`A-0302-h${h}`, { uprn: u(h), roundId: A, due: '2026-03-02', outcome: 'collected', liftTs: lift('2026-03-02', 7 + h), liftVehicleId: `${contractId}-v-A` })
  await add('A-0302-h6', { uprn: u(6), roundId: A, due: '2026-03-02', outcome: 'crew_exception', exceptionCode: 'contaminated', liftTs: lift('2026-03-02', 13) })
  await add('A-0302-h7', { uprn: u(7), roundId: A, due: '2026-03-02', outcome: 'crew_exception', exceptionCode: 'no_access', liftTs: lift('2026-03-02', 13) })
  await add('A-0302-h8', { uprn: u(8), roundId: A, due: '2026-03-02', outcome: 'collected_late', liftTs: lift('2026-03-03', 9) })
  await add('A-0302-h9', { uprn: u(9), roundId: A, due: '2026-03-02', outcome: 'missed', reportedAt: '2026-03-02T17:00:00Z', rectifyDeadline: '2026-03-03T23:59:00Z' })
  await add('A-0302-h10', { uprn: u(10), roundId: A, due: '2026-03-02', outcome: 'rectified', reportedAt: '2026-03-02T17:00:00Z', rectifyDeadline: '2026-03-04T23:59:00Z', rectifiedAt: '2026-03-03T10:00:00Z', liftTs: '2026-03-03T10:00:00Z', liftVehicleId: 'spare' })
  await add('A-0302-h12', { uprn: u(12), roundId: A, due: '2026-03-02', outcome: 'missed', cancelled: true })

  for (let h = 1; h <= 4; h++) await add(`A-0309-h${h}`, { uprn: u(h), roundId: A, due: '2026-03-09', outcome: 'collected', liftTs: lift('2026-03-09', 8 + h) })
  await add('A-0309-h9', { uprn: u(9), roundId: A, due: '2026-03-09', outcome: 'rectified_late', reportedAt: '2026-03-09T17:00:00Z', rectifyDeadline: '2026-03-10T23:59:00Z', rectifiedAt: '2026-03-12T10:00:00Z', liftTs: '2026-03-12T10:00:00Z', liftVehicleId: 'spare' })
  await add('A-0309-h10', { uprn: u(10), roundId: A, due: '2026-03-09', outcome: 'missed' })

  await add('A-0105-h3', { uprn: u(3), roundId: A, due: '2026-01-05', outcome: 'rectified', reportedAt: '2026-01-05T17:00:00Z', rectifyDeadline: '2026-01-06T23:59:00Z', rectifiedAt: '2026-01-06T10:00:00Z' })
  await add('A-0316-h3', { uprn: u(3), roundId: A, due: '2026-03-16', outcome: 'rectified', reportedAt: '2026-03-16T18:00:00Z', rectifyDeadline: '2026-03-17T23:59:00Z', rectifiedAt: '2026-03-17T10:00:00Z', liftTs: '2026-03-17T10:00:00Z', liftVehicleId: 'spare' })
  await add('A-0319-h1', { uprn: u(1), roundId: A, due: '2026-03-19', outcome: 'collected', liftTs: lift('2026-03-19', 9) })
  await add('A-0319-h5', { uprn: u(5), roundId: A, due: '2026-03-19', outcome: 'missed', reportedAt: '2026-03-19T17:00:00Z', rectifyDeadline: '2026-03-21T23:59:00Z' })
  await add('A-0320-h2', { uprn: u(2), roundId: A, due: '2026-03-20', outcome: 'pending' })

  for (let h = 1; h <= 3; h++) await add(`B-0303-h${h}`, { uprn: u(h), roundId: B, due: '2026-03-03', outcome: 'collected', liftTs: lift('2026-03-03', 8 + h) })
  await add('B-0303-h4', { uprn: u(4), roundId: B, due: '2026-03-03', outcome: 'crew_exception', exceptionCode: 'not_presented', liftTs: lift('2026-03-03', 12) })
  await add('B-0303-h9', { uprn: u(9), roundId: B, due: '2026-03-03', outcome: 'missed', reportedAt: '2026-03-03T17:00:00Z', rectifyDeadline: '2026-03-04T23:59:00Z' })
  await add('B-1209-h7', { uprn: u(7), roundId: B, due: '2025-12-09', outcome: 'missed' })
  await add('B-0303-h7', { uprn: u(7), roundId: B, due: '2026-03-03', outcome: 'missed' })
  await add('B-1208-h8', { uprn: u(8), roundId: B, due: '2025-12-08', outcome: 'missed' })
  await add('B-0303-h8', { uprn: u(8), roundId: B, due: '2026-03-03', outcome: 'missed' })

  await addReport(db, { uprn: u(2), stream: 'residual', requestedAt: '2026-03-01T00:30:00Z', validity: 'valid' })
  await addReport(db, { uprn: u(9), stream: 'residual', requestedAt: '2026-03-02T17:00:00Z', validity: 'valid' })
  await addReport(db, { uprn: u(1), stream: 'residual', requestedAt: '2026-03-02T18:00:00Z', validity: 'invalid' })
  await addReport(db, { uprn: u(9), stream: 'recycling', requestedAt: '2026-03-03T17:00:00Z', validity: 'valid' })
  await addReport(db, { uprn: u(4), stream: 'recycling', requestedAt: '2026-03-03T19:00:00Z', validity: 'invalid' })
  await addReport(db, { uprn: u(5), stream: 'residual', requestedAt: '2026-03-19T17:00:00Z', validity: 'pending' })
  await addReport(db, { uprn: u(3), stream: 'residual', requestedAt: '2026-02-28T23:30:00Z', validity: 'invalid' })
  await addReport(db, { uprn: u(3), stream: 'residual', requestedAt: '2026-03-31T23:30:00Z', validity: 'invalid' })
  return { ids }
}
