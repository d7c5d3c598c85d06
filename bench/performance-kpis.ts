// How long contractor KPIs take for a Liverpool-sized city (210,000 households) on the embedded
// database: roll up and score one collection day, then a whole month; the same answers computed
// live (nothing rolled up); league, trends, why-missed and the drill-down over the month; and the
// daily kpi-rollup job. Prints figures; asserts nothing.
//
//   node --import tsx bench/performance-kpis.ts [--quick] [--households 210000] [--data-dir DIR]   (--quick: 10,000 households)
//
// The city is the simulator's: its registry and calendar, a month simulated (no sensors), and every
// collection's outcome as the data shows it (tests/analysis/performance/truth-kpis.ts) written into
// collection_outcomes, with the residents' reports. Setting it up takes minutes; with --data-dir the
// database is kept there and reused by the next run.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { addDays } from '../analysis/calendar/dates.ts'
import { kpiCollections } from '../analysis/performance/drill-down.ts'
import { kpiRollupJob } from '../analysis/performance/job.ts'
import { contractPerformance, performanceTrends, roundLeague } from '../analysis/performance/performance.ts'
import { refreshRollup } from '../analysis/performance/rollup.ts'
import { whyMissed } from '../analysis/why-missed/why-missed.ts'
import { silentLogger } from '../core/log.ts'
import { generateCity } from '../simulators/city/generate-city.ts'
import { installCity } from '../simulators/install-city.ts'
import { createSimulation } from '../simulators/model/simulation.ts'
import type { Database } from '../storage/database.ts'
import { openDatabase } from '../storage/open-database.ts'
import { seenCollections } from '../tests/analysis/performance/truth-kpis.ts'
import { writeReports, writeSeenOutcomes } from '../tests/analysis/performance/truth-loader.ts'
import { machine } from './lib.ts'

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, households: { type: 'string' }, 'data-dir': { type: 'string' } } })
const households = Number(values.households ?? (values.quick ? 10_000 : 210_000))
const START = '2026-03-01' // the month of March 2026, clocks changing on the 29th
const DAYS = 31
const MONTH = { from: START, to: addDays(START, DAYS - 1) }
const DAY = '2026-03-18' // a Wednesday
const NOW = new Date('2026-04-01T04:30:00Z') // the job's run after the month

const seconds = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(2)} s`
async function timed<T>(label: string, fn: () => Promise<T>, detail?: (v: T) => string): Promise<T> {
  const t0 = performance.now()
  const v = await fn()
  console.log(`  ${label.padEnd(58)} ${seconds(t0).padStart(9)}${detail ? `   ${detail(v)}` : ''}`)
  return v
}

async function setUp(db: Database): Promise<string> {
  let t0 = performance.now()
  const city = generateCity({ seed: 210, households, start: START, sensorShare: 0 })
  await installCity(db, city, { calendar: { from: addDays(START, -7), to: addDays(START, DAYS + 14), today: addDays(START, -8) } })
  console.log(`set-up: city of ${city.households.length.toLocaleString('en-GB')} households, ${city.rounds.length} rounds installed in ${seconds(t0)}`)
  t0 = performance.now()
  const sim = createSimulation(city, { days: DAYS, truthReadings: false })
  for (const _ of sim.outputs()) { /* the ground truth is what the run leaves */ }
  const seen = seenCollections(sim.truth, city.contract.rectifyWorkingDays)
  console.log(`set-up: ${DAYS} days simulated (${seen.length.toLocaleString('en-GB')} collections, ${sim.truth.reports.length.toLocaleString('en-GB')} reports) in ${seconds(t0)}`)
  t0 = performance.now()
  await writeSeenOutcomes(db, seen)
  await writeReports(db, sim.truth.reports)
  await db.query(`CREATE TABLE bench_kpis_ready (contract_id text)`)
  await db.query(`INSERT INTO bench_kpis_ready VALUES ($1)`, [city.contract.contractId])
  console.log(`set-up: outcomes and reports written in ${seconds(t0)}`)
  return city.contract.contractId
}

const dataDir = values['data-dir']
console.log(`machine: ${machine()}`)
const t0 = performance.now()
const db = await openDatabase({ logger: silentLogger, dataDir })
console.log(`database opened in ${seconds(t0)}${dataDir ? ` (${dataDir})` : ' (in memory)'}`)
try {
  const ready = dataDir && existsSync(join(dataDir, 'pgdata'))
    ? (await db.query<{ id: string }>(`SELECT contract_id AS id FROM bench_kpis_ready`).catch(() => ({ rows: [] as { id: string }[] }))).rows[0]?.id
    : undefined
  const contractId = ready ?? await setUp(db)
  const { rows: [size] } = await db.query<{ n: number; days: number }>(`SELECT count(*)::int AS n, count(DISTINCT due_date)::int AS days FROM collection_outcomes WHERE due_date BETWEEN $1 AND $2`, [MONTH.from, MONTH.to])
  console.log(`${size!.n.toLocaleString('en-GB')} collection outcomes over ${size!.days} collection days in March 2026; ${households.toLocaleString('en-GB')} households\n`)

  // Start from nothing rolled up, as after the month's outcomes were classified.
  await db.exec(`DELETE FROM kpi_round_days; DELETE FROM kpi_days; DELETE FROM kpi_contract_months`)
  await db.query(`INSERT INTO kpi_stale_days (contract_id, day) SELECT $1, d::date FROM generate_series($2::date, $3::date, interval '1 day') d ON CONFLICT DO NOTHING`, [contractId, MONTH.from, MONTH.to])
  await timed('ANALYZE (the job keeps planner statistics fresh)', () => db.query(`ANALYZE collection_outcomes, missed_reports, kpi_round_days, kpi_days`))

  console.log('\nlive (nothing rolled up):')
  const live = await timed('performance, one day', () => contractPerformance(db, contractId, { from: DAY, to: DAY, now: NOW }), (p) => `${p.figures.scheduled.toLocaleString('en-GB')} scheduled, ${p.figures.missed} missed, score ${p.score}`)
  await timed('performance, the month', () => contractPerformance(db, contractId, { ...MONTH, now: NOW }), (p) => `${p.figures.scheduled.toLocaleString('en-GB')} scheduled, ${p.figures.missed} missed, ${p.points.total} points, deduction £${p.deduction.total}`)

  console.log('\nroll-up:')
  await timed('roll up one collection day', () => refreshRollup(db, { now: NOW, contractId, only: { from: DAY, to: DAY }, ensure: { from: DAY, to: DAY } }), (r) => `${r.rows} round rows`)
  await timed('score one collection day (from the roll-up)', () => contractPerformance(db, contractId, { from: DAY, to: DAY, now: NOW }), (p) => `same as live: ${JSON.stringify(p.figures) === JSON.stringify(live.figures)}`)
  await timed('roll up the month', () => refreshRollup(db, { now: NOW, contractId, only: MONTH, ensure: MONTH }), (r) => `${r.days} days, ${r.rows} round rows`)
  await timed('score the month (from the roll-up)', () => contractPerformance(db, contractId, { ...MONTH, now: NOW }), (p) => `${p.source.rolledUpDays} days rolled up, score ${p.score}`)
  await timed('league of rounds, the month', () => roundLeague(db, contractId, { ...MONTH, now: NOW }), (l) => `${l.rounds.length} rounds`)
  await timed('trends by day, the month', () => performanceTrends(db, contractId, { ...MONTH, now: NOW, granularity: 'day' }), (t) => `${t.points.length} points`)

  console.log('\nwhy bins are missed, the month:')
  await timed('breakdowns, hotspots, repeat households, return trips', () => whyMissed(db, contractId, MONTH), (w) => `${w.by.street.length} streets, ${w.hotspots.cells.length} hot cells, ${w.repeatHouseholds.total} repeat households, £${w.returnTrips.cost} of return trips`)
  await timed('drill-down: first page of misses', () => kpiCollections(db, contractId, { ...MONTH, kpi: 'missed', limit: 100, offset: 0, now: NOW }), (p) => `${p.total} misses`)
  await timed('drill-down: repeat misses', () => kpiCollections(db, contractId, { ...MONTH, kpi: 'repeat', limit: 100, offset: 0, now: NOW }), (p) => `${p.total} repeats`)

  console.log('\nthe daily job:')
  await db.query(`UPDATE collection_outcomes SET decided_at = decided_at WHERE due_date = $1`, [addDays(MONTH.to, -1)]) // a day reclassified overnight
  await timed('kpi-rollup job (analyze, refresh what changed, month to date)', () => kpiRollupJob.run({ db, logger: silentLogger, now: NOW, period: '2026-04-01' }), (d) => JSON.stringify(d))
} finally {
  await db.close()
}
