// Ward leaderboards: points and recycled weight per ward for a month, from the ledger, with no name,
// address or UPRN in them. A ward with fewer households with entries than the rules' minHouseholds is
// not listed (only counted), so that a figure can never be traced back to one or two homes.
import type { Queryable } from '../../storage/database.ts'
import { monthStart, type Month } from './periods.ts'
import { listRuleSets, rulesInForce } from './rules.ts'

export interface WardStanding {
  rank: number
  ward: string
  /** Households registered in the ward */
  households: number
  /** Households with ledger entries for the month */
  participating: number
  totalPoints: number
  /** Points per registered household, to one decimal */
  averagePoints: number
  recycledKg: number
  recycledKgPerHousehold: number
}

export interface Leaderboard {
  period: Month
  minHouseholds: number
  wards: WardStanding[]
  /** Wards left out because too few of their households have entries */
  suppressedWards: number
}

const round = (n: number, places: number) => Math.round(n * 10 ** places) / 10 ** places

export async function wardLeaderboard(db: Queryable, period: Month): Promise<Leaderboard> {
  const { minHouseholds } = rulesInForce(await listRuleSets(db), period, null).rules.leaderboard
  // The recycled weight of a household's month is the kg in its latest recycled-weight entry: every
  // entry of that rule, award or adjustment, carries the month's whole total.
  const { rows } = await db.query<{ ward: string; households: number; participating: number; totalPoints: number; recycledKg: number }>(
    // Sums over the month's ledger (the participating households) joined to their wards, and the
    // wards' sizes as the database keeps them (migration 133): nothing here reads every household.
    `WITH month AS (
       SELECT uprn, sum(points) AS points FROM reward_ledger WHERE period = $1 GROUP BY uprn
     ), kg AS (
       SELECT DISTINCT ON (uprn) uprn, (evidence->>'kg')::numeric AS kg
         FROM reward_ledger WHERE period = $1 AND rule = 'recycled_weight' ORDER BY uprn, entry_id DESC
     ), taking_part AS (
       SELECT h.ward, count(*) AS participating, sum(m.points) AS points, sum(kg.kg) AS kg
         FROM month m JOIN households h ON h.uprn = m.uprn LEFT JOIN kg ON kg.uprn = m.uprn
        WHERE h.ward IS NOT NULL
        GROUP BY h.ward
     ), sizes AS (
       SELECT ward, households FROM ward_households WHERE households > 0
     )
     SELECT s.ward, s.households::int AS households, coalesce(t.participating, 0)::int AS participating,
            coalesce(t.points, 0)::int AS "totalPoints", coalesce(t.kg, 0) AS "recycledKg"
       FROM sizes s LEFT JOIN taking_part t ON t.ward = s.ward`,
    [monthStart(period)],
  )
  const listed = rows.filter((r) => r.participating >= minHouseholds)
  const wards = listed
    .map((r) => ({
      ward: r.ward, households: r.households, participating: r.participating, totalPoints: r.totalPoints,
      averagePoints: round(r.totalPoints / r.households, 1), recycledKg: round(r.recycledKg, 1), recycledKgPerHousehold: round(r.recycledKg / r.households, 2),
    }))
    .sort((a, b) => b.averagePoints - a.averagePoints || a.ward.localeCompare(b.ward))
    .map((w, i) => ({ rank: i + 1, ...w }))
  return { period, minHouseholds, wards, suppressedWards: rows.filter((r) => r.participating > 0).length - listed.length }
}
