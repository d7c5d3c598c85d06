// npm run bench:classify — how long deciding the outcome of one collection day takes for a
// Liverpool-sized city (the target: under 30 s for 210,000 households on this machine).
//
// Setup: the seeded city generator's 210,000 households (registry import and calendar), then a week of
// the simulation — every collection day of the week — written through ingest's write path, so that the
// database holds a week of lifts, positions and readings. Then each day is classified as the hourly job
// does after the rounds (one set-based statement per day, upserting collection_outcomes), timed, with
// its row counts; then the busiest day again (nothing changed: nothing written), and once more after a
// late lift (the reclassification path). Then the day's scoring: the daily kpi-rollup job (roll-up of
// the changed days, month to date) as the scheduler runs it after the night's classification.
// Prints figures; asserts nothing. --quick: 21,000 households, two days.
//
//   node --import tsx bench/classify-day.ts [--quick] [households=210000] [days=7]
import { addDays } from '../analysis/calendar/dates.ts'
import { classifyOutcomes, type ClassifyReport } from '../analysis/outcomes/classify.ts'
import { kpiRollupJob } from '../analysis/performance/job.ts'
import { ukDayEnd, ukInstant } from '../analysis/outcomes/local-time.ts'
import { silentLogger } from '../core/log.ts'
import { openDatabase } from '../storage/open-database.ts'
import { loadSimulatedCity } from '../tests/helpers/simulated-city.ts'
import { emitResult, loadAverage, machine, progress, quick } from './lib.ts'

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const households = Number(positional[0] ?? (quick ? 21_000 : 210_000))
const days = Number(positional[1] ?? (quick ? 2 : 7))
const START = '2026-03-02' // a Monday
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const n = (x: number) => x.toLocaleString('en-GB')

const loadStart = loadAverage()
console.log(`# One collection day classified and scored — ${new Date().toISOString()}`)
console.log(`machine: ${machine()}; load average at the start ${loadStart}`)
progress(`city of ${households.toLocaleString('en-GB')} households, ${days} days simulated and written through ingest's write path …`)
const db = await openDatabase({ logger: silentLogger })
const sim = await loadSimulatedCity(db, {
  city: { seed: 210, households, start: START, sensorShare: 0.02 },
  days,
  behaviour: { sensors: { readingIntervalS: 4 * 3600 }, vehicles: { positionIntervalS: 60 } },
  batchSize: 10_000,
})
const count = async (sql: string) => (await db.query<{ n: number }>(sql)).rows[0]!.n
console.log(`${n(households)} households, ${n(await count('SELECT count(*)::int AS n FROM bins'))} bins, ${n(await count('SELECT count(*)::int AS n FROM rounds'))} rounds; `
  + `registry import and calendar ${s(sim.ms.install)}; ${days} days simulated and written in ${s(sim.ms.simulateAndWrite)}`)
console.log(`rows: ${n(await count('SELECT count(*)::int AS n FROM scheduled_collections'))} scheduled collections, ${n(await count('SELECT count(*)::int AS n FROM lift_events'))} lift events, `
  + `${n(await count('SELECT count(*)::int AS n FROM vehicle_positions'))} vehicle positions, ${n(await count('SELECT count(*)::int AS n FROM bin_readings'))} bin readings`)

const now = new Date(sim.endMs)
const lifted = async (day: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM lift_events WHERE ts >= $1 AND ts < $2`, [ukInstant(day), ukDayEnd(day)])).rows[0]!.n
const line = (day: string, r: ClassifyReport, lifts: number) =>
  `  ${day}: ${n(r.decided).padStart(7)} collections, ${n(lifts).padStart(7)} lift events, ${n(r.inserted + r.rewritten).padStart(7)} rows written in ${s(r.ms)}  `
  + Object.entries(r.outcomes).map(([k, v]) => `${k} ${n(v)}`).join(', ')
let busiest: { day: string; report: ClassifyReport } | null = null
progress('classifying each day …')
console.log('classifying each day (one statement per day):')
for (let i = 0; i < days; i++) {
  const day = addDays(START, i)
  const report = await classifyOutcomes(db, { from: day, to: day, now })
  if (report.decided === 0) continue
  console.log(line(day, report, await lifted(day)))
  if (!busiest || report.decided > busiest.report.decided) busiest = { day, report }
}
if (busiest) {
  const { day } = busiest
  const again = await classifyOutcomes(db, { from: day, to: day, now })
  console.log(`again, nothing new (${day}): ${n(again.decided)} decided, ${n(again.inserted + again.rewritten)} written, in ${s(again.ms)}`)
  const { rows } = await db.query<{ id: number }>(`SELECT collection_id AS id FROM collection_outcomes WHERE due_date = $1 AND outcome = 'missed' LIMIT 1`, [day])
  if (rows[0]) {
    await db.query(`INSERT INTO lift_events (ts, device_id, seq, vehicle_id, tag, bin_id, uprn, weight_kg, lat, lon, outcome)
      SELECT $2::timestamptz, 'bench-late-unit', 1, NULL, b.rfid_tag, b.bin_id, o.uprn, 10, h.lat, h.lon, 'collected'
        FROM collection_outcomes o JOIN bins b ON b.uprn = o.uprn AND b.stream = o.stream JOIN households h ON h.uprn = o.uprn
       WHERE o.collection_id = $1 LIMIT 1`, [rows[0].id, ukInstant(day, 11 * 60)])
    const late = await classifyOutcomes(db, { from: day, to: day, now })
    console.log(`after one late lift (${day}): ${n(late.rewritten)} rewritten in ${s(late.ms)}`)
  }
  console.log(`ONE COLLECTION DAY (${day}, the busiest): ${n(busiest.report.decided)} collections classified in ${s(busiest.report.ms)} on the embedded database`)
}
progress('scoring: the daily kpi-rollup job …')
const t0 = performance.now()
const scored = await kpiRollupJob.run({ db, logger: silentLogger, now, period: addDays(START, days) })
const scoreMs = performance.now() - t0
console.log(`scoring: the daily kpi-rollup job (roll-up of changed days, month to date) in ${s(scoreMs)}: ${JSON.stringify(scored)}`)
const loadEnd = loadAverage()
console.log(`load average at the end: ${loadEnd}`)
emitResult({
  bench: 'classify', machine: machine(), loadStart, loadEnd, quick, households, days,
  busiest: busiest && { day: busiest.day, decided: busiest.report.decided, ms: busiest.report.ms }, scoreMs,
})
await db.close()
