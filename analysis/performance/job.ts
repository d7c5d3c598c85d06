// The daily KPI roll-up: recompute the round-day counts that no longer hold (outcomes reclassified,
// reports assessed, deadlines passed), make sure this month and last are rolled up, then store each
// contract's month-to-date points and deduction. Keyed by the local day: a second instance or a
// restart the same day finds it done; a rerun would recompute the same figures.
import type { Database } from '../../storage/database.ts'
import { addDays, localDate, type IsoDate } from '../calendar/dates.ts'
import type { JobDefinition } from '../scheduler.ts'
import { contractPerformance } from './performance.ts'
import { DEFAULT_TIME_ZONE, refreshRollup } from './rollup.ts'
import { allContractTerms } from './terms.ts'

const firstOfMonth = (day: IsoDate): IsoDate => `${day.slice(0, 7)}-01`

export interface MonthToDate {
  contractId: string
  month: string
  asOfDay: IsoDate
  points: number
  deduction: number
}

/** Store each contract's points and deduction for the month of `today` up to it, and for last month whole. */
export async function storeMonthToDate(db: Database, opts: { now: Date; timeZone?: string }): Promise<MonthToDate[]> {
  const today = localDate(opts.now, opts.timeZone ?? DEFAULT_TIME_ZONE)
  const lastMonth = addDays(firstOfMonth(today), -1)
  const out: MonthToDate[] = []
  for (const terms of await allContractTerms(db)) {
    // Last month keeps changing for a while (late reports, rectification deadlines), so it is stored again too.
    for (const [from, to] of [[firstOfMonth(lastMonth), lastMonth], [firstOfMonth(today), today]] as const) {
      const p = await contractPerformance(db, terms.contractId, { from, to, now: opts.now, timeZone: opts.timeZone })
      const m = p.deduction.months[0]!
      await db.query(
        `INSERT INTO kpi_contract_months (contract_id, month, as_of_day, points, deduction_uncapped, deduction_cap, deduction, computed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (contract_id, month) DO UPDATE SET as_of_day = excluded.as_of_day, points = excluded.points,
           deduction_uncapped = excluded.deduction_uncapped, deduction_cap = excluded.deduction_cap, deduction = excluded.deduction, computed_at = excluded.computed_at`,
        [terms.contractId, from, to, m.points, m.value, m.cap, m.deduction, opts.now.toISOString()],
      )
      out.push({ contractId: terms.contractId, month: m.month, asOfDay: to, points: m.points, deduction: m.deduction })
    }
  }
  return out
}

export interface StoredMonth extends MonthToDate {
  deductionUncapped: number
  deductionCap: number
  computedAt: Date
}

export async function storedMonths(db: Database, contractId: string): Promise<StoredMonth[]> {
  return (await db.query<StoredMonth>(
    `SELECT contract_id AS "contractId", to_char(month, 'YYYY-MM') AS month, as_of_day AS "asOfDay", points, deduction_uncapped AS "deductionUncapped",
            deduction_cap AS "deductionCap", deduction, computed_at AS "computedAt"
       FROM kpi_contract_months WHERE contract_id = $1 ORDER BY month`, [contractId])).rows
}

export const kpiRollupJob: JobDefinition = {
  name: 'kpi-rollup',
  // 04:30 daily: after the calendar (02:20) and the night's outcome classification.
  schedule: '30 4 * * *',
  period: (now) => localDate(now),
  async run({ db, now }) {
    const today = localDate(now)
    // The embedded engine has no autovacuum, so nothing else keeps the planner's statistics of
    // these fast-growing tables fresh; without them it plans a month of outcomes as one row.
    if (db.kind === 'pglite') await db.query(`ANALYZE collection_outcomes, missed_reports, kpi_round_days, kpi_days, why_missed_place_days, why_missed_round_days, why_missed_time_days, why_missed_days`)
    const rollup = await refreshRollup(db, { now, ensure: { from: firstOfMonth(addDays(firstOfMonth(today), -1)), to: today } })
    const months = await storeMonthToDate(db, { now })
    return { ...rollup, months: months.length }
  },
}
