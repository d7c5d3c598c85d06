// node --import tsx bench/analyse-day.ts — `kerbside analyse` for one collection day of a Liverpool-sized city, timed,
// and its outcomes compared with the hourly job's.
//
// Setup as bench/classify-day.ts: the seeded city generator's 210,000 households and two days of the
// simulation (Mon 2 and Tue 3 March 2026) through ingest's write path. Then:
//   1. the hourly outcomes job runs as it would just after midnight (it decides Tuesday, its rounds over);
//   2. Tuesday's outcomes are kept aside and deleted, and `analyse 2026-03-03..2026-03-03` (analyseRange,
//      what the command runs: outcomes, KPIs, rewards, under the jobs' locks) decides the day again, timed;
//   3. every collection's outcome, exception code, deciding lift, miss time, report and deadline are
//      compared with the hourly job's (the number that differ is printed: it should be 0), and the CRM
//      outbox with what the hourly job wrote (no event twice);
//   4. the same re-run again: nothing new, timed.
// Prints figures; asserts nothing. --quick: 21,000 households.
//
//   node --import tsx bench/analyse-day.ts [--quick] [households=210000]
import { outcomesJob } from '../analysis/outcomes/job.ts'
import { analyseRange } from '../analysis/rerun/analyse-range.ts'
import { progressLine } from '../cli/analyse-command.ts'
import { silentLogger } from '../core/log.ts'
import { openDatabase } from '../storage/open-database.ts'
import { loadSimulatedCity } from '../tests/helpers/simulated-city.ts'
import { emitResult, loadAverage, machine, progress, quick } from './lib.ts'

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const households = Number(positional[0] ?? (quick ? 21_000 : 210_000))
const START = '2026-03-02' // a Monday
const DAY = '2026-03-03'
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const n = (x: number) => x.toLocaleString('en-GB')

const loadStart = loadAverage()
console.log(`# kerbside analyse: one collection day re-decided, re-scored and re-posted — ${new Date().toISOString()}`)
console.log(`machine: ${machine()}; load average at the start ${loadStart}`)
progress(`city of ${n(households)} households, 2 days simulated and written through ingest's write path …`)
const db = await openDatabase({ logger: silentLogger })
const sim = await loadSimulatedCity(db, {
  city: { seed: 210, households, start: START, sensorShare: 0.02 },
  days: 2,
  behaviour: { sensors: { readingIntervalS: 4 * 3600 }, vehicles: { positionIntervalS: 60 } },
  batchSize: 10_000,
})
console.log(`${n(households)} households; registry import and calendar ${s(sim.ms.install)}; 2 days simulated and written in ${s(sim.ms.simulateAndWrite)}`)

// 1. The hourly job just after midnight: Tuesday's rounds are over.
const now = new Date(Date.parse(`${DAY}T23:59:00Z`) + 11 * 60_000) // 00:10 on Wednesday (GMT)
progress('the hourly outcomes job …')
const t1 = performance.now()
type Step = { decided: number; crmEvents: { confirmed: number } }
const hourly = await outcomesJob.run({ db, logger: silentLogger, now, period: now.toISOString().slice(0, 13) }) as { recent: Step; earlier: Step }
// Its recent step decides yesterday (Tuesday); its look-back step the days before (Monday).
console.log(`hourly outcomes job at ${now.toISOString()}: ${n(hourly.recent.decided)} collections of ${DAY} and ${n(hourly.earlier.decided)} of ${START} decided, `
  + `${n(hourly.recent.crmEvents.confirmed + hourly.earlier.crmEvents.confirmed)} misses to the CRM, in ${s(performance.now() - t1)}`)

const FIELDS = `collection_id, outcome, exception_code, lift_ts, lift_device_id, lift_seq, missed_at, first_report_id, reported_at, rectify_deadline, rectified_at`
await db.query(`CREATE TABLE bench_hourly AS SELECT ${FIELDS} FROM collection_outcomes WHERE due_date = $1`, [DAY])
const events = async () => (await db.query<{ n: number; keys: number }>(`SELECT count(*)::int AS n, count(DISTINCT idempotency_key)::int AS keys FROM crm_outbox`)).rows[0]!
const eventsBefore = await events()
await db.query(`DELETE FROM collection_outcomes WHERE due_date = $1`, [DAY])

// 2. The re-run of the day, timed.
progress(`kerbside analyse --from ${DAY} --to ${DAY} …`)
const run = await analyseRange(db, { from: DAY, to: DAY, now, onProgress: (p) => console.log(`  ${progressLine(p)}`) })
console.log(`KERBSIDE ANALYSE ${DAY}: ${n(run.decided)} collections re-decided, ${n(run.written)} written, KPIs ${run.kpis.days} contract-day(s), in ${s(run.ms)} on the embedded database`)

// 3. The same outcomes as the hourly job's, and no CRM event twice.
const { rows: [diff] } = await db.query<{ hourly: number; rerun: number; differ: number }>(
  `SELECT (SELECT count(*)::int FROM bench_hourly) AS hourly,
          (SELECT count(*)::int FROM collection_outcomes WHERE due_date = $1) AS rerun,
          (SELECT count(*)::int FROM (
             (SELECT ${FIELDS} FROM bench_hourly EXCEPT SELECT ${FIELDS} FROM collection_outcomes WHERE due_date = $1)
             UNION ALL
             (SELECT ${FIELDS} FROM collection_outcomes WHERE due_date = $1 EXCEPT SELECT ${FIELDS} FROM bench_hourly)) d) AS differ`,
  [DAY],
)
const eventsAfter = await events()
console.log(`outcomes compared with the hourly job's: ${n(diff!.hourly)} then, ${n(diff!.rerun)} now, ${n(diff!.differ)} differing row(s)`)
// The hourly job told the CRM of every miss of the day already: the re-run must add no event (keys are unique in the outbox, so anything it sent again would show as new events).
console.log(`CRM outbox: ${n(eventsBefore.n)} events before the re-run, ${n(eventsAfter.n)} after (${n(eventsAfter.keys)} distinct keys): ${eventsAfter.n === eventsBefore.n ? 'no event repeated' : `${n(eventsAfter.n - eventsBefore.n)} NEW EVENT(S)`}`)

// 4. Again: nothing new.
const again = await analyseRange(db, { from: DAY, to: DAY, now })
console.log(`again, nothing new: ${n(again.decided)} decided, ${n(again.written)} written, CRM +${again.crmEvents.confirmed}/${again.crmEvents.withdrawn}, in ${s(again.ms)}`)
const loadEnd = loadAverage()
console.log(`load average at the end: ${loadEnd}`)
emitResult({
  bench: 'analyse', machine: machine(), loadStart, loadEnd, quick, households, day: DAY,
  decided: run.decided, ms: run.ms, againMs: again.ms, differing: diff!.differ, eventsBefore: eventsBefore.n, eventsAfter: eventsAfter.n,
})
await db.close()
