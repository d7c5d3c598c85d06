// A city with a contract and a few weeks of history, for the dashboard's contract pages: the city
// generator's registry and calendar, every simulated device message written through ingest's own
// write path (tests/helpers/simulated-city.ts), the residents' reports filed and judged by the
// first-contact assessor as they stood when made, and the outcomes decided by the real outcome rules.
// The history runs from a Monday about four weeks back to the start of today (London), so that this
// month, the league and the trends have data and today's collections are not decided yet.
import { addDays, daysBetween, isoWeekday } from '../../analysis/calendar/dates.ts'
import { createReportAssessor } from '../../analysis/first-contact/assess-report.ts'
import { classifyOutcomes } from '../../analysis/outcomes/classify.ts'
import { ukDate } from '../../analysis/outcomes/local-time.ts'
import { assessPendingReports, settleReports } from '../../analysis/outcomes/reports-sync.ts'
import type { City } from '../../simulators/city/city.ts'
import type { Database } from '../../storage/database.ts'
import { createReport } from '../../storage/reports.ts'
import { loadSimulatedCity } from '../helpers/simulated-city.ts'

export interface ContractCity {
  city: City
  contractId: string
  from: string
  today: string
  reports: number
}

export async function seedContractCity(db: Database, opts: { households: number; weeks?: number; seed?: number; now?: Date }): Promise<ContractCity> {
  const now = opts.now ?? new Date()
  const today = ukDate(now)
  const back = addDays(today, -7 * (opts.weeks ?? 4))
  const from = addDays(back, -(isoWeekday(back) - 1)) // the Monday on or before
  const days = daysBetween(from, today)
  // One residual round's crew misses far more than the others: the league and the hotspots show it.
  const loaded = await loadSimulatedCity(db, {
    city: { seed: opts.seed ?? 11, households: opts.households, start: from, sensorShare: 0.2 },
    days,
    behaviour: (city) => ({ crewByRound: { [city.rounds.find((r) => r.stream === 'residual')!.roundId]: { missRate: 0.04 } } }),
  })
  for (const { report } of loaded.reports) {
    await createReport(db, {
      serviceCode: report.serviceCode, stream: report.stream, uprn: report.uprn, collectionDate: report.collectionDate, locatedBy: 'uprn',
      source: 'simulation', requestedAt: new Date(report.at),
    })
  }
  await assessPendingReports(db, now, createReportAssessor(db))
  // Up to yesterday: the simulation stops at the start of today, so today's rounds have no lifts
  // yet; classified after their planned end, every one of today's collections would count as missed.
  await classifyOutcomes(db, { from, to: addDays(today, -1), now })
  await settleReports(db, now)
  return { city: loaded.city, contractId: loaded.city.contract.contractId, from, today, reports: loaded.reports.length }
}
