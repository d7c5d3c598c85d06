// Ward leaderboards: points and recycled weight per ward for a month, from the ledger, with no name,
// address or UPRN in them. A ward with fewer households with entries than the rules' minHouseholds is
// not listed (only counted), so that a figure can never be traced back to one or two homes.
import type { Queryable } from '../../storage/database.ts'
import { monthStart, type Month } from './periods.ts'
import { listRuleSets, rulesInForce } from './rules.ts'
import { keptValue } from '../kept-value.ts'

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

interface WardRow { ward: string; households: number; participating: number; totalPoints: number; recycledKg: number | string }

function standings(period: Month, minHouseholds: number, rows: WardRow[]): Leaderboard {
  const listed = rows.filter((r) => r.participating >= minHouseholds)
  const wards = listed
    .map((r) => ({
      ward: r.ward, households: r.households, participating: r.participating, totalPoints: r.totalPoints,
      averagePoints: round(r.totalPoints / r.households, 1), recycledKg: round(Number(r.recycledKg), 1), recycledKgPerHousehold: round(Number(r.recycledKg) / r.households, 2),
    }))
    .sort((a, b) => b.averagePoints - a.averagePoints || a.ward.localeCompare(b.ward))
    .map((w, i) => ({ rank: i + 1, ...w }))
  return { period, minHouseholds, wards, suppressedWards: rows.filter((r) => r.participating > 0).length - listed.length }
}

// The kept totals' version: the newest change to a ward's size or a month's totals, and how many
// rows there are (a row removed). Read before the totals, so that a change committed in between
// makes the next answer read them again. As analysis/why-missed/kept.ts does.
const TOKEN_SQL = `
SELECT (SELECT coalesce(max(xmin::text::bigint), 0) || ':' || count(*) FROM reward_ward_months WHERE period = $1)
       || '|' || (SELECT coalesce(max(xmin::text::bigint), 0) || ':' || count(*) FROM ward_households) AS token`

/** Kept answers per database, by month and the rules' minimum: a leaderboard is asked for again and again, and changes once a day. */
const MAX_KEPT = 24

export async function wardLeaderboard(db: Queryable, period: Month): Promise<Leaderboard> {
  const { minHouseholds } = rulesInForce(await listRuleSets(db), period, null).rules.leaderboard
  const { rows: v } = await db.query<{ token: string }>(TOKEN_SQL, [monthStart(period)])
  return keptValue(db, `${period}|${minHouseholds}`, v[0]!.token, MAX_KEPT, async () => {
    // The month's totals per ward as the database keeps them while entries are posted and households
    // change ward (migration 134: the sum of each household's entries, the kg of its latest
    // recycled-weight entry, which carries the month's whole total), and the wards' sizes (migration
    // 133): one row per ward, nothing read per household or per entry. wardLeaderboardDirect computes
    // the same from the ledger itself.
    const { rows } = await db.query<WardRow>(
      `SELECT s.ward, s.households::int AS households, coalesce(t.participating, 0)::int AS participating,
              coalesce(t.points, 0)::int AS "totalPoints", coalesce(t.kg, 0) AS "recycledKg"
         FROM ward_households s LEFT JOIN reward_ward_months t ON t.period = $1 AND t.ward = s.ward
        WHERE s.households > 0`,
      [monthStart(period)],
    )
    return standings(period, minHouseholds, rows)
  })
}

/**
 * The same leaderboard computed from the ledger and the registry directly (every entry of the month,
 * every household's ward counted): the ground truth the kept totals are tested against.
 */
export async function wardLeaderboardDirect(db: Queryable, period: Month): Promise<Leaderboard> {
  const { minHouseholds } = rulesInForce(await listRuleSets(db), period, null).rules.leaderboard
  const { rows } = await db.query<WardRow>(
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
       SELECT ward, count(*) AS households FROM households WHERE ward IS NOT NULL GROUP BY ward
     )
     SELECT s.ward, s.households::int AS households, coalesce(t.participating, 0)::int AS participating,
            coalesce(t.points, 0)::int AS "totalPoints", coalesce(t.kg, 0) AS "recycledKg"
       FROM sizes s LEFT JOIN taking_part t ON t.ward = s.ward`,
    [monthStart(period)],
  )
  return standings(period, minHouseholds, rows)
}
