// npm run bench:proactive — proactive miss detection and fill forecasts against the simulator's truth.
//
// A seeded city with known miss behaviour (tests/analysis/proactive/scenario.ts: on Mondays crews pass
// 3 % of bins, on Wednesdays they leave out streets, on Thursdays vehicles break down and nobody
// finishes, on Fridays rounds run out of time), its telemetry written through ingest's write path.
// The proactive job runs every 15 minutes of simulated time, as the scheduler runs it, reading only the
// evidence up to that instant. Printed: the share of genuine misses known before the first resident
// report, the share of confirmed misses that were wrong and the textbook false-positive rate, both
// for confirmed misses (return booked, CRM told) and for all raised; by cause and sensor; the time per
// run. Then fill forecasts made each morning of the last two weeks against the truth: error in days
// to full, false alarms, overflow alerts. Prints figures; asserts nothing.
//
//   node --import tsx bench/proactive.ts [households=2000] [days=28] [tickMinutes=15] [seed=11]
//   --quick: 600 households, 14 days, ticks of 30 minutes
import { loadavg } from 'node:os'
import { addDays } from '../analysis/calendar/dates.ts'
import { CONFIRM_AT } from '../analysis/proactive/confidence.ts'
import { ukInstant } from '../analysis/outcomes/local-time.ts'
import { silentLogger } from '../core/log.ts'
import { openDatabase } from '../storage/open-database.ts'
import { forecastError } from '../tests/analysis/forecast/measure.ts'
import { evaluate, runDetection, type TierFigures } from '../tests/analysis/proactive/measure.ts'
import { knownMissBehaviour } from '../tests/analysis/proactive/scenario.ts'
import { loadSimulatedCity } from '../tests/helpers/simulated-city.ts'
import { emitResult, machine, percentiles, quick, table } from './lib.ts'

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const households = quick ? 600 : Number(args[0] ?? 2000)
const days = quick ? 14 : Number(args[1] ?? 28)
const tickMinutes = quick ? 30 : Number(args[2] ?? 15)
const seed = Number(args[3] ?? 11)
const START = '2026-03-02'
const SENSOR_SHARE = 0.25
const pct = (v: number) => `${(v * 100).toFixed(1)}%`
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`

console.log(`machine: ${machine()}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
const db = await openDatabase({ logger: silentLogger })
let t0 = performance.now()
const sim = await loadSimulatedCity(db, { city: { seed, households, start: START, sensorShare: SENSOR_SHARE }, days, behaviour: knownMissBehaviour })
console.log(`${households.toLocaleString('en-GB')} households (seed ${seed}, sensors on ${pct(SENSOR_SHARE)} of wheeled bins), ${days} days from ${START}: `
  + `${sim.stored.lift.toLocaleString('en-GB')} lifts, ${sim.stored.position.toLocaleString('en-GB')} positions, ${sim.stored.reading.toLocaleString('en-GB')} readings (${s(performance.now() - t0)})`)

t0 = performance.now()
const run = await runDetection(db, { from: START, to: addDays(START, days - 1), tickMinutes, endMs: sim.endMs })
const per = percentiles(run.msPerRun)
console.log(`proactive job: ${run.runs} runs every ${tickMinutes} min of simulated time in ${s(performance.now() - t0)}; per run p50 ${per.p50} ms, p90 ${per.p90} ms, max ${per.max} ms`)

const sensorBins = new Set(sim.city.bins.filter((b) => b.sensorDeviceId).map((b) => b.binId))
// The last two days are left out: their reports and returns would fall after the run.
const ev = await evaluate(db, sim, { from: START, to: addDays(START, days - 3), sensorBins })
const row = (name: string, f: TierFigures) => [name, f.genuine, f.detectedBeforeReport, pct(f.recall), f.flagged, f.falsePositives, pct(f.falseDiscoveryShare), pct(f.falsePositiveRate)]
console.log(`\n${ev.collections.toLocaleString('en-GB')} collections judged, ${ev.confirmed.genuine} genuine misses (${ev.reportedGenuine} reported by residents)`)
console.log(table(['tier', 'genuine', 'known before report', 'share', 'flagged', 'wrong', 'wrong of flagged', 'false-positive rate'], [
  row(`confirmed (≥ ${CONFIRM_AT})`, ev.confirmed), row('raised (any confidence)', ev.suspected),
]))
console.log(`\nconfirmed before the first report, by cause and by sensor:`)
console.log(table(['of', 'genuine', 'known before report', 'share'], [
  ...Object.entries(ev.byCause).map(([k, v]) => [k, v.genuine, v.detected, pct(v.detected / v.genuine)]),
  ...Object.entries(ev.bySensor).map(([k, v]) => [k, v.genuine, v.detected, pct(v.genuine ? v.detected / v.genuine : NaN)]),
]))
console.log(`wrong confirmations: ${JSON.stringify(ev.falseByTruth)} by basis ${JSON.stringify(ev.falseByBasis)}; withdrawn ${ev.withdrawn}; `
  + `median lead over the first report ${ev.leadMinutesMedian ?? '-'} min`)

t0 = performance.now()
// Each morning of the last two weeks, once the bins have a fortnight of history (the last days of a short run otherwise).
const firstForecastDay = Math.min(Math.max(14, days - 14), days - 4)
const instants: Date[] = []
for (let d = firstForecastDay; d < days - 1; d++) instants.push(ukInstant(addDays(START, d), 6 * 60))
const fe = await forecastError(db, sim, instants)
console.log(`\nfill forecasts, each morning at 06:00 of days ${firstForecastDay + 1}–${days - 1} (${fe.forecasts.toLocaleString('en-GB')} bin forecasts, ${s(performance.now() - t0)}):`)
console.log(`  days to full, ${fe.filled} bins that really filled before their next emptying: mean absolute error ${fe.maeDays} d, median ${fe.medianAbsDays} d, 90th percentile ${fe.p90AbsDays} d, bias ${fe.biasDays} d`)
console.log(`  ${fe.notFilled} bins emptied before they filled: ${fe.falseAlarms} forecast full before that emptying`)
console.log(`  overflow alerts (full before the next collection): ${fe.overflow.predicted} raised, ${fe.overflow.actual} really overflowed, precision ${fe.overflow.precision}, recall ${fe.overflow.recall}`)

emitResult({
  bench: 'proactive', households, days, seed, tickMinutes, runs: run.runs, runMsP50: per.p50, runMsP90: per.p90,
  genuine: ev.confirmed.genuine, confirmedRecall: ev.confirmed.recall, confirmedWrongShare: ev.confirmed.falseDiscoveryShare, confirmedFalsePositiveRate: ev.confirmed.falsePositiveRate,
  raisedRecall: ev.suspected.recall, raisedWrongShare: ev.suspected.falseDiscoveryShare, raisedFalsePositiveRate: ev.suspected.falsePositiveRate,
  forecastMaeDays: fe.maeDays, forecastMedianAbsDays: fe.medianAbsDays, forecastP90AbsDays: fe.p90AbsDays, forecastBiasDays: fe.biasDays,
  overflowPrecision: fe.overflow.precision, overflowRecall: fe.overflow.recall,
})
await db.close()
