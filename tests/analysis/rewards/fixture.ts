// A small town for the reward tests, small enough to compute every entry by hand (ledger.test.ts does).
//
// Ward North: A, B, C, D and G (G has only a communal bin). Ward South: E and F.
// Council rules: the defaults, but a ward needs 3 qualifying households for a residual baseline and
// 2 households with entries to be on the leaderboard. Contract K2 (which collects E) has its own
// rules: the yearly cap is 1,000 points and the scheme year starts in January.
import type { Database } from '../../../storage/database.ts'
import { DEFAULT_REWARD_RULES, saveRuleSet, type RewardRules } from '../../../analysis/rewards/rules.ts'

export const U = { A: 200000000001, B: 200000000002, C: 200000000003, D: 200000000004, E: 200000000005, F: 200000000006, G: 200000000007 } as const

export const COUNCIL_RULES: RewardRules = {
  ...DEFAULT_REWARD_RULES,
  residualReduction: { ...DEFAULT_REWARD_RULES.residualReduction, minWardHouseholds: 3 },
  leaderboard: { minHouseholds: 2 },
}
export const K2_RULES: RewardRules = { ...COUNCIL_RULES, caps: { monthly: 400, yearly: 1000, yearStartsInMonth: 1 } }

let seq = 0
/** A lift as a vehicle unit reports it (device rcv-unit, increasing seq). */
export async function lift(db: Database, uprn: number, binId: string, ts: string, outcome: string, weightKg: number | null): Promise<string> {
  seq++
  await db.query(
    `INSERT INTO lift_events (ts, device_id, seq, vehicle_id, tag, bin_id, uprn, weight_kg, lat, lon, outcome)
     VALUES ($1, 'rcv-unit', $2, 'rcv-1', $3, $3, $4, $5, 53.4, -2.98, $6)`,
    [ts, seq, binId, uprn, weightKg, outcome],
  )
  return `rcv-unit#${seq}`
}

export async function seedTown(db: Database): Promise<void> {
  await db.query(`INSERT INTO contractors (contractor_id, name) VALUES ('c1', 'Test Contractor')`)
  await db.query(`INSERT INTO vehicles (vehicle_id, contractor_id) VALUES ('rcv-1', 'c1')`)
  await db.query(`INSERT INTO contracts (contract_id, contractor_id, name, starts_on) VALUES ('K1', 'c1', 'North contract', '2025-01-01'), ('K2', 'c1', 'South recycling', '2025-01-01')`)
  const homes: [keyof typeof U, string][] = [['A', 'North'], ['B', 'North'], ['C', 'North'], ['D', 'North'], ['G', 'North'], ['E', 'South'], ['F', 'South']]
  for (const [k, ward] of homes) {
    await db.query(`INSERT INTO households (uprn, address, ward, crm_ref) VALUES ($1, $2, $3, $4)`, [U[k], `${k} Test Road`, ward, `CRM-${k}`])
  }
  const bins: [string, keyof typeof U, string, number, boolean?][] = [
    ['A-res', 'A', 'residual', 240], ['A-rec', 'A', 'recycling', 240], ['A-gls', 'A', 'glass', 55],
    ['B-res', 'B', 'residual', 240], ['B-rec', 'B', 'recycling', 240],
    ['C-res', 'C', 'residual', 240], ['C-rec', 'C', 'recycling', 240],
    ['D-res', 'D', 'residual', 240],
    ['E-rec', 'E', 'recycling', 240],
    ['F-res', 'F', 'residual', 240], ['F-rec', 'F', 'recycling', 240],
    ['G-com', 'G', 'recycling', 1100, true],
  ]
  for (const [binId, k, stream, capacity, communal] of bins) {
    await db.query(`INSERT INTO bins (bin_id, uprn, stream, rfid_tag, capacity_l, communal) VALUES ($1, $2, $3, $1, $4, $5)`, [binId, U[k], stream, capacity, communal ?? false])
  }
  await db.query(`INSERT INTO rounds (round_id, contract_id, name, stream, vehicle_id, weekday, frequency, anchor_date) VALUES ('R-K2', 'K2', 'South recycling Tue', 'recycling', 'rcv-1', 2, 'weekly', '2026-01-06')`)
  await db.query(`INSERT INTO round_households (round_id, uprn, position) VALUES ('R-K2', $1, 0)`, [U.E])
  await saveRuleSet(db, { contractId: null, effectiveFrom: '2026-01', rules: COUNCIL_RULES, createdBy: 'test' })
  await saveRuleSet(db, { contractId: 'K2', effectiveFrom: '2026-01', rules: K2_RULES, createdBy: 'test' })

  // A: 44.0 kg recycling in 4 lifts and 6.3 kg glass (55 l bin: rated 22 kg), residual 8.0 + 7.0 kg.
  for (const [d, kg] of [['03', 12.4], ['10', 10.1], ['17', 9.9], ['24', 11.6]] as const) await lift(db, U.A, 'A-rec', `2026-03-${d}T08:00:00Z`, 'collected', kg)
  await lift(db, U.A, 'A-gls', '2026-03-05T08:00:00Z', 'collected', 6.3)
  await lift(db, U.A, 'A-res', '2026-03-06T08:00:00Z', 'collected', 8.0)
  await lift(db, U.A, 'A-res', '2026-03-20T08:00:00Z', 'collected', 7.0)
  // 00:30 on 1 April in London (BST): April's, not March's.
  await lift(db, U.A, 'A-rec', '2026-03-31T23:30:00Z', 'collected', 3.0)
  // B: 5.0 kg recycling; on 17 March the crew refused the recycling bin as contaminated (tapped twice).
  await lift(db, U.B, 'B-rec', '2026-03-03T08:00:00Z', 'collected', 5.0)
  await lift(db, U.B, 'B-rec', '2026-03-17T08:00:00Z', 'contaminated', null)
  await lift(db, U.B, 'B-rec', '2026-03-17T08:02:00Z', 'contaminated', null)
  await lift(db, U.B, 'B-res', '2026-03-06T08:00:00Z', 'collected', 12.0)
  await lift(db, U.B, 'B-res', '2026-03-20T08:00:00Z', 'collected', 14.0)
  // C: 20 kg recycling, and a 150 kg reading (over the 96 kg rated load: not counted, still presented).
  await lift(db, U.C, 'C-rec', '2026-03-03T08:00:00Z', 'collected', 20.0)
  await lift(db, U.C, 'C-rec', '2026-03-10T08:00:00Z', 'collected', 150.0)
  await lift(db, U.C, 'C-res', '2026-03-06T08:00:00Z', 'collected', 10.0)
  await lift(db, U.C, 'C-res', '2026-03-20T08:00:00Z', 'collected', 11.0)
  // D: one weighed residual lift, and a bin not presented.
  await lift(db, U.D, 'D-res', '2026-03-06T08:00:00Z', 'collected', 9.0)
  await lift(db, U.D, 'D-res', '2026-03-20T08:00:00Z', 'not_presented', null)
  // E: 4 × 25 kg recycling every month from January.
  for (const month of ['01', '02', '03']) {
    const days = month === '01' ? ['06', '13', '20', '27'] : ['03', '10', '17', '24']
    for (const d of days) await lift(db, U.E, 'E-rec', `2026-${month}-${d}T08:00:00Z`, 'collected', 25.0)
  }
  // F: residual collected once, recycling contaminated twice.
  await lift(db, U.F, 'F-res', '2026-03-10T08:00:00Z', 'collected', 9.0)
  await lift(db, U.F, 'F-rec', '2026-03-03T08:00:00Z', 'contaminated', null)
  await lift(db, U.F, 'F-rec', '2026-03-17T08:00:00Z', 'contaminated', null)
  // G: a communal 1100 l bin (not one household's weight).
  await lift(db, U.G, 'G-com', '2026-03-03T08:00:00Z', 'collected', 200.0)
}
