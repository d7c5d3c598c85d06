// npm run bench:queries — query latency at two data sizes ten times apart, and how it grows.
//
// Each size is a whole city from the seeded generator (registry and eight weeks of calendar through
// the real import), then, written on the database server by set-based SQL (fast loading): every past
// collection's outcome and its lift, and half-hourly readings from 2 % of the wheeled bins for as many
// days as make 10 million readings at the larger size. The hourly readings roll-up and the KPI roll-up
// are brought up to date by their own functions, as the jobs do, then VACUUM ANALYZE and a CHECKPOINT.
// Then, one request at a time through the real API, the two sizes alternating request by request (app.inject: auth, validation, audit log,
// serialisation), for households and sensors picked at random across the city, every endpoint the
// dashboard calls (dashboard/src/lib) except the map snapshot itself (bench:dashboard measures that):
//   household history   GET /api/v1/households/{uprn}/collections?limit=20
//   first-contact check GET /api/v1/households/{uprn}/first-contact?stream=…
//   household summary   GET /api/v1/households/{uprn}
//   household search    GET /api/v1/households?q=… (a postcode, an address start, a street, a UPRN in turn)
//   devices list        GET /api/v1/devices?limit=101 (a page after a random id; every 3rd a search)
//   device summary      GET /api/v1/device-summary
//   readings aggregates GET /api/v1/devices/{id}/readings/aggregate (last 7 days, hourly buckets)
//   KPIs                GET /api/v1/contracts/{id}/performance (the last four weeks, from the roll-up)
//   league, trends      GET /api/v1/contracts/{id}/league?sort=rank&order=asc&limit=25&offset=0 (the dashboard's first page),
//                       /trends?granularity=day (the same four weeks)
//   why missed          GET /api/v1/contracts/{id}/why-missed?households=100 (the same four weeks)
//   KPI drill-down      GET /api/v1/contracts/{id}/collections?kpi=missed&limit=25
//   reports, contracts, rewards leaderboard, map summary: as the dashboard asks for them; rounds: a page of 50
//                       (the leaderboard for last month, March, whose ledger the real posting job writes)
// Every wheeled bin gets a sensor in the registry (500,000 devices at 210,000 households; only 2 %
// report readings), so the devices list and its counts are measured at a city's full fleet.
// The two sizes run on the PostgreSQL server (DATABASE_URL's server, or the local test server); the
// smaller one also on the embedded TimescaleDB. Loading 10 million rows into the embedded engine (a
// single-threaded WebAssembly PostgreSQL) takes long enough that the larger size there is opt-in:
// --embedded-large.
//
//   node --import tsx bench/queries.ts [--quick] [--households 21000] [--requests 1000] [--embedded-large] [--skip-embedded]
//                                      [--keep] [--only 'why missed (4 weeks),rounds']
// --keep loads each PostgreSQL city once into a database of its own (kerbside_bench_q_<households>)
// and leaves it there; a later run with --keep finds it, runs the migrations and the roll-ups again
// and times it without loading (a few seconds instead of minutes: for working on one query).
// --only times the endpoints named (comma-separated), the others not.
import { parseArgs } from 'node:util'
import { Registry } from 'prom-client'
import { buildApi } from '../api/build-api.ts'
import { addDays } from '../analysis/calendar/dates.ts'
import { refreshRollup } from '../analysis/performance/rollup.ts'
import { postRewards } from '../analysis/rewards/ledger.ts'
import { lastClosedMonth, monthStart } from '../analysis/rewards/periods.ts'
import { silentLogger } from '../core/log.ts'
import { generateCity } from '../simulators/city/generate-city.ts'
import { installCity } from '../simulators/install-city.ts'
import { createApiKey } from '../storage/api-keys.ts'
import type { Database } from '../storage/database.ts'
import { openDatabase } from '../storage/open-database.ts'
import { refreshReadingsRollup } from '../storage/readings.ts'
import pg from 'pg'
import { createTestDatabase, SERVER_URL } from '../tests/helpers/postgres.ts'
import { emitResult, fmtInt, loadAverage, machine, percentiles, progress, quick, step, table } from './lib.ts'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' }, households: { type: 'string' }, requests: { type: 'string' },
    'embedded-large': { type: 'boolean' }, 'skip-embedded': { type: 'boolean' },
    keep: { type: 'boolean' }, only: { type: 'string' },
  },
})
const SMALL = Number(values.households ?? (quick ? 2_000 : 21_000))
const LARGE = SMALL * 10
const REQUESTS = Number(values.requests ?? (quick ? 100 : 1000))
/** Readings wanted at the larger size; the smaller gets a tenth (same sensors' share, same days). */
const READINGS_LARGE = quick ? 1_000_000 : 10_000_000
const SENSOR_SHARE = 0.02
const READING_EVERY_MIN = 30
const START = '2026-03-02' // a Monday; eight weeks of collections
const WEEKS = 8
const TODAY = addDays(START, WEEKS * 7 - 3) // Friday of week 8
const NOW = new Date(`${TODAY}T17:30:00Z`) // 18:30 BST, after the rounds
/** The month the rewards leaderboard is read for: the last one over, as the dashboard first shows it. */
const REWARD_MONTH = lastClosedMonth(NOW, 'Europe/London')
const ADMIN = 'ks_admin000000_BENCHBENCHBENCHBENCHBENCHBENCHBENCHBENCHBENCHBE'
const ENDPOINTS = [
  'household history', 'first-contact check', 'household summary', 'household search', 'devices list', 'device summary', 'readings aggregates',
  'KPIs (4 weeks)', 'league (4 weeks)', 'trends (4 weeks)', 'why missed (4 weeks)', 'KPI drill-down', 'reports', 'rounds', 'contracts',
  'rewards leaderboard', 'map summary',
] as const
/**
 * Requests per endpoint and size, as a share of --requests. Every endpoint answers in milliseconds
 * now, so each gets enough requests for its p99 to be more than its slowest one or two: at 100
 * requests the p99 was the slowest answer but one, and the growth ratio moved by 2x between runs.
 */
const SHARE: Partial<Record<(typeof ENDPOINTS)[number], number>> = {}
type Endpoint = typeof ENDPOINTS[number]
const ONLY: readonly Endpoint[] = values.only === undefined ? ENDPOINTS : values.only.split(',').map((name) => {
  const e = ENDPOINTS.find((x) => x === name.trim())
  if (!e) throw new Error(`--only: no endpoint named "${name.trim()}"; the endpoints are: ${ENDPOINTS.join(', ')}`)
  return e
})

interface SizeResult {
  engine: 'postgresql' | 'embedded'
  households: number
  readings: number
  collections: number
  devices: number
  loadMs: number
  bytesPerReading: number | null
  latency: Record<Endpoint, { p50: number; p99: number; max: number; count: number }>
}

/** A city of `households` with its history, loaded into `db`. Returns row counts and the contract. */
async function loadCity(db: Database, households: number, readingDays: number): Promise<{ contractId: string; readings: number; collections: number; devices: number; bytesPerReading: number | null }> {
  const city = generateCity({ seed: 7, households, start: START, sensorShare: SENSOR_SHARE })
  await step(`  registry and calendar of ${fmtInt(households)} households (the real import)`, () =>
    installCity(db, city, { calendar: { from: START, to: addDays(START, WEEKS * 7 + 13), today: addDays(START, -1) } }))
  const contractId = city.contract.contractId
  // Every collection due before today has its outcome: 0.3 % missed, 0.7 % crew exceptions, the rest
  // collected by the round's vehicle during the morning. Spread by a hash of the collection id.
  await step('  outcomes of past collections (INSERT … SELECT)', async () => {
    await db.query(`
      INSERT INTO collection_outcomes (collection_id, uprn, stream, round_id, contract_id, due_date, outcome, exception_code, lift_ts, lift_vehicle_id, lift_weight_kg, missed_at)
      SELECT sc.collection_id, sc.uprn, sc.stream, sc.round_id, r.contract_id, sc.due_date,
             CASE WHEN x.h < 3 THEN 'missed' WHEN x.h < 10 THEN 'crew_exception' ELSE 'collected' END,
             CASE WHEN x.h >= 3 AND x.h < 10 THEN 'not_presented' END,
             CASE WHEN x.h >= 3 THEN (sc.due_date + time '07:30')::timestamp AT TIME ZONE 'Europe/London' + make_interval(secs => x.h * 25) END,
             r.vehicle_id, CASE WHEN x.h >= 10 THEN 8 + x.h % 20 END,
             CASE WHEN x.h < 3 THEN (sc.due_date + time '18:00')::timestamp AT TIME ZONE 'Europe/London' END
        FROM scheduled_collections sc JOIN rounds r ON r.round_id = sc.round_id,
             LATERAL (SELECT (sc.collection_id * 2654435761) % 1000 AS h) x
       WHERE sc.due_date < $1 AND NOT sc.cancelled`, [TODAY])
    await db.query(`
      INSERT INTO lift_events (ts, device_id, seq, vehicle_id, tag, bin_id, uprn, weight_kg, lat, lon, outcome)
      SELECT co.lift_ts, coalesce(d.device_id, 'bench-unit'), co.collection_id, co.lift_vehicle_id, coalesce(b.rfid_tag, 'untagged'), b.bin_id, co.uprn,
             co.lift_weight_kg, h.lat, h.lon, coalesce(co.exception_code, 'collected')
        FROM collection_outcomes co JOIN households h ON h.uprn = co.uprn
        LEFT JOIN LATERAL (SELECT bin_id, rfid_tag FROM bins WHERE uprn = co.uprn AND stream = co.stream ORDER BY bin_id LIMIT 1) b ON true
        LEFT JOIN devices d ON d.vehicle_id = co.lift_vehicle_id
       WHERE co.lift_ts IS NOT NULL
      ON CONFLICT DO NOTHING`)
  })
  // Missed-bin reports for every other miss, made the next morning (the reports list, the KPIs' reports).
  await step('  missed-bin reports for half the misses (INSERT … SELECT)', () => db.query(`
    INSERT INTO missed_reports (service_code, stream, uprn, collection_date, located_by, source, validity, requested_at)
    SELECT 'missed_' || co.stream, co.stream, co.uprn, co.due_date, 'uprn', 'bench', 'valid', (co.due_date + 1 + time '10:00')::timestamp AT TIME ZONE 'Europe/London'
      FROM collection_outcomes co WHERE co.outcome = 'missed' AND co.collection_id % 2 = 0`))
  const { rows: [sensors] } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM devices WHERE kind = 'bin' AND bin_id IS NOT NULL`)
  const perSensor = Math.round((readingDays * 24 * 60) / READING_EVERY_MIN)
  // Readings, one statement per slice of sensors so that progress shows and no transaction is huge.
  await step(`  ${fmtInt(sensors!.n * perSensor)} readings: ${fmtInt(sensors!.n)} sensors × ${perSensor} (every ${READING_EVERY_MIN} min for ${readingDays} days; INSERT … SELECT generate_series)`, async () => {
    const { rows: ids } = await db.query<{ id: string }>(`SELECT device_id AS id FROM devices WHERE kind = 'bin' AND bin_id IS NOT NULL ORDER BY device_id`)
    const slice = Math.max(1, Math.ceil(1_000_000 / perSensor))
    for (let i = 0; i < ids.length; i += slice) {
      await db.query(`
        INSERT INTO bin_readings (ts, device_id, seq, bin_id, uprn, fill_pct, temp_c, battery_v, status)
        SELECT $2::timestamptz - make_interval(mins => g * $4), d.device_id, $3 - g, b.bin_id, b.uprn,
               ((($3 - g) * 7 + hashtext(d.device_id)) & 127) % 101, 8 + (g % 48) / 4.0, 3.7 - g / 100000.0, 'ok'
          FROM devices d JOIN bins b ON b.bin_id = d.bin_id, generate_series(0, $3 - 1) g
         WHERE d.device_id = ANY($1::text[])`,
      [ids.slice(i, i + slice).map((r) => r.id), NOW.toISOString(), perSensor, READING_EVERY_MIN])
      if ((i / slice) % 5 === 4) progress(`    ${fmtInt(Math.min(ids.length, i + slice) * perSensor)} readings`)
    }
  })
  // The rest of the wheeled bins get a sensor in the registry too (silent ones: never heard, a few
  // online), so that the devices list and its counts are measured at a whole city's fleet.
  await step('  a registered sensor on every other bin (INSERT … SELECT)', () => db.query(`
    INSERT INTO devices (device_id, kind, secret_hash, bin_id, online, last_ts)
    SELECT 'fleet-' || b.bin_id, 'bin', '!', b.bin_id, (hashtext(b.bin_id) & 7) = 0, CASE WHEN (hashtext(b.bin_id) & 7) = 0 THEN $1::timestamptz END
      FROM bins b WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.bin_id = b.bin_id)`, [NOW.toISOString()]))
  await step('  latest readings of the reporting sensors (as ingest keeps them)', () => db.query(`
    INSERT INTO latest_readings (device_id, bin_id, uprn, ts, seq, fill_pct, temp_c, battery_v, status)
    SELECT DISTINCT ON (device_id) device_id, bin_id, uprn, ts, seq, fill_pct, temp_c, battery_v - (hashtext(device_id) & 1) * 0.5, status
      FROM bin_readings ORDER BY device_id, ts DESC
    ON CONFLICT (device_id) DO NOTHING`))
  await rollUp(db, contractId)
  const count = async (sql: string) => Number((await db.query<{ n: number }>(sql)).rows[0]!.n)
  const readings = await count('SELECT count(*)::bigint AS n FROM bin_readings')
  // Disk per reading, table and its indexes (a plain table on the server; the embedded hypertable's
  // chunks are counted elsewhere, so only the server's figure is given).
  const bytesPerReading = db.kind === 'pg' ? (await count(`SELECT pg_total_relation_size('bin_readings') AS n`)) / readings : null
  return { contractId, readings, collections: await count('SELECT count(*)::bigint AS n FROM scheduled_collections'), devices: await count('SELECT count(*)::bigint AS n FROM devices'), bytesPerReading }
}

/** The roll-ups brought up to date as their jobs do, then the database settled (also on a kept city). */
async function rollUp(db: Database, contractId: string): Promise<void> {
  await step('  hourly readings roll-up (the roll-up job)', () => refreshReadingsRollup(db, { now: NOW }))
  const month = { from: addDays(TODAY, -27), to: TODAY }
  await step('  KPI roll-up of the four weeks (the kpi-rollup job)', () => refreshRollup(db, { now: NOW, contractId, only: month, ensure: month }))
  await postRewardMonth(db)
  // A database in steady state rather than one just bulk-loaded: VACUUM sets the hint bits and the
  // visibility map (otherwise the first reads of each fresh page write it again), ANALYZE the planner
  // statistics, and a CHECKPOINT writes the load out now instead of during the timed requests.
  await step('  VACUUM ANALYZE, CHECKPOINT', async () => {
    await db.query('VACUUM ANALYZE')
    if (db.kind === 'pg') await db.query('CHECKPOINT')
  })
}

/**
 * The reward ledger of the leaderboard's month, posted by the real posting job (the daily 'rewards'
 * job's postRewards) from the city's lifts, when that month has no entries yet (so a kept city gets
 * it too): every household with lifts that month gets its rules' entries and a CRM event.
 */
async function postRewardMonth(db: Database): Promise<void> {
  const { rows: [held] } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT 1 FROM reward_ledger WHERE period = $1 LIMIT 1) x`, [monthStart(REWARD_MONTH)])
  if (held!.n > 0) return
  await step(`  reward ledger of ${REWARD_MONTH} (the rewards job's posting)`, async () => {
    const [posted] = await postRewards(db, { from: REWARD_MONTH, now: NOW, cascade: false })
    progress(`    ${fmtInt(posted!.entries)} entries for ${fmtInt(posted!.households)} households`)
  })
}

type Loaded = Awaited<ReturnType<typeof loadCity>>

/** --keep: the city's own database on the server, created if missing; `loaded` when it holds a whole loaded city. */
async function keptDatabase(households: number): Promise<{ url: string; loaded: Loaded | null }> {
  const name = `kerbside_bench_q_${households}`
  const admin = new pg.Client({ connectionString: SERVER_URL })
  await admin.connect()
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (!rowCount) await admin.query(`CREATE DATABASE ${name}`)
  } finally { await admin.end() }
  const url = new URL(SERVER_URL)
  url.pathname = `/${name}`
  const c = new pg.Client({ connectionString: url.toString() })
  await c.connect()
  try {
    await c.query('CREATE TABLE IF NOT EXISTS bench_queries_city (info jsonb NOT NULL)')
    const { rows: held } = await c.query<{ info: Loaded }>('SELECT info FROM bench_queries_city LIMIT 1')
    return { url: url.toString(), loaded: held[0]?.info ?? null }
  } finally { await c.end() }
}

/** A loaded database with the API over it, ready to answer the timed requests. */
interface Prepared {
  engine: SizeResult['engine']
  households: number
  loaded: Awaited<ReturnType<typeof loadCity>>
  loadMs: number
  /** Send request i of an endpoint; resolves with the time it took, ms. */
  request(endpoint: Endpoint, i: number): Promise<number>
  close(): Promise<void>
}

async function prepare(engine: SizeResult['engine'], households: number, readingDays: number): Promise<Prepared> {
  progress(`${engine}, ${fmtInt(households)} households:`)
  const kept = engine === 'postgresql' && values.keep ? await keptDatabase(households) : null
  const server = engine === 'postgresql' && !kept ? await createTestDatabase() : null
  const db = await openDatabase({ url: kept?.url ?? server?.url, logger: silentLogger })
  const close = async () => { await db.close(); await server?.drop() }
  try {
    const { value: loaded, ms: loadMs } = kept?.loaded
      ? await step(`  kept city (${fmtInt(households)} households, loaded before): roll-ups`, async () => { await rollUp(db, kept.loaded!.contractId); return kept.loaded! })
      : await step(`  load (${engine}, ${fmtInt(households)} households)`, async () => {
        const city = await loadCity(db, households, readingDays)
        if (kept) await db.query('INSERT INTO bench_queries_city (info) VALUES ($1)', [JSON.stringify(city)])
        return city
      })
    progress(`  ${fmtInt(loaded.readings)} readings, ${fmtInt(loaded.collections)} scheduled collections`)
    const app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN, rateLimitPerMinute: 1_000_000 })
    const crm = (await createApiKey(db, 'bench contact centre', 'crm')).key
    const manager = (await createApiKey(db, 'bench contract manager', 'contract_manager')).key
    const { rows: homes } = await db.query<{ uprn: number; stream: string }>(
      `SELECT uprn, stream FROM bins WHERE stream IN ('residual', 'recycling') ORDER BY random() LIMIT $1`, [REQUESTS + 20])
    const { rows: sensors } = await db.query<{ id: string }>(`SELECT device_id AS id FROM devices WHERE kind = 'bin' AND bin_id IS NOT NULL ORDER BY random() LIMIT $1`, [REQUESTS + 20])
    const weekAgo = new Date(NOW.getTime() - 7 * 86_400_000).toISOString()
    // Search terms as people type them: a postcode, the start of an address, a street, a UPRN.
    const { rows: places } = await db.query<{ uprn: number; address: string; street: string; postcode: string }>(
      `SELECT uprn, address, street, postcode FROM households ORDER BY random() LIMIT $1`, [REQUESTS + 20])
    const searches = places.map((h, i) => [h.postcode, h.address.split(' ').slice(0, 2).join(' '), h.street, String(h.uprn)][i % 4]!)
    const { rows: fleet } = await db.query<{ id: string; postcode: string }>(
      `SELECT d.device_id AS id, h.postcode FROM devices d JOIN bins b ON b.bin_id = d.bin_id JOIN households h ON h.uprn = b.uprn ORDER BY random() LIMIT $1`, [REQUESTS + 20])
    const month = `from=${addDays(TODAY, -27)}&to=${TODAY}`
    const contract = `/api/v1/contracts/${encodeURIComponent(loaded.contractId)}`
    const pick = <T>(list: T[], i: number) => list[i % list.length]!
    const urls: Record<Endpoint, (i: number) => { url: string; key: string }> = {
      'household history': (i) => ({ url: `/api/v1/households/${pick(homes, i).uprn}/collections?limit=20`, key: crm }),
      'first-contact check': (i) => ({ url: `/api/v1/households/${pick(homes, i).uprn}/first-contact?stream=${pick(homes, i).stream}&at=${NOW.toISOString()}`, key: crm }),
      'household summary': (i) => ({ url: `/api/v1/households/${pick(homes, i).uprn}`, key: crm }),
      'household search': (i) => ({ url: `/api/v1/households?q=${encodeURIComponent(pick(searches, i))}&limit=20`, key: crm }),
      'devices list': (i) => ({ url: i % 3 === 0 ? `/api/v1/devices?limit=101&q=${encodeURIComponent(i % 2 === 0 ? pick(fleet, i).postcode : pick(fleet, i).id)}` : `/api/v1/devices?limit=101&after=${encodeURIComponent(pick(fleet, i).id)}`, key: manager }),
      'device summary': () => ({ url: '/api/v1/device-summary', key: manager }),
      'readings aggregates': (i) => ({ url: `/api/v1/devices/${pick(sensors, i).id}/readings/aggregate?from=${weekAgo}&to=${NOW.toISOString()}&bucket=1h`, key: manager }),
      'KPIs (4 weeks)': () => ({ url: `${contract}/performance?${month}`, key: manager }),
      'league (4 weeks)': () => ({ url: `${contract}/league?${month}&sort=rank&order=asc&limit=25&offset=0`, key: manager }),
      'trends (4 weeks)': () => ({ url: `${contract}/trends?${month}&granularity=day`, key: manager }),
      'why missed (4 weeks)': () => ({ url: `${contract}/why-missed?${month}&households=100`, key: manager }),
      'KPI drill-down': (i) => ({ url: `${contract}/collections?kpi=missed&${month}&limit=25&offset=${(i % 4) * 25}`, key: manager }),
      reports: () => ({ url: `/api/v1/reports?from=${new Date(`${addDays(TODAY, -27)}T00:00:00Z`).toISOString()}&to=${NOW.toISOString()}&limit=100`, key: manager }),
      // The dashboard no longer lists rounds (why-missed names its rounds itself): a page as an API client asks for it.
      rounds: () => ({ url: `/api/v1/rounds?contractId=${encodeURIComponent(loaded.contractId)}&limit=50`, key: manager }),
      contracts: () => ({ url: '/api/v1/contracts', key: manager }),
      'rewards leaderboard': () => ({ url: `/api/v1/rewards/leaderboard?period=${REWARD_MONTH}`, key: manager }),
      'map summary': () => ({ url: '/api/v1/map/summary', key: manager }),
    }
    return {
      engine, households, loaded, loadMs,
      async request(endpoint, i) {
        const { url, key } = urls[endpoint](i)
        const t0 = performance.now()
        const res = await app.inject({ url, headers: { authorization: `Bearer ${key}` } })
        const took = performance.now() - t0
        if (res.statusCode !== 200) throw new Error(`${endpoint}: ${url} answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
        return took
      },
      close: async () => { await app.close(); await close() },
    }
  } catch (err) {
    await close()
    throw err
  }
}

/**
 * Time each endpoint on every prepared database, one request at a time, the sizes taking turns
 * (small, large, small, …), so that whatever else the machine is doing falls on both sizes alike and
 * the growth ratio compares like with like. Up to 20 warm-up requests each, not counted.
 */
/** Requests per turn: one (turns of 25 let a pause of the machine, a checkpoint or a garbage collection, fall on one size only). */
const BLOCK = 1
async function measure(sizes: Prepared[]): Promise<SizeResult[]> {
  const times = sizes.map(() => Object.fromEntries(ONLY.map((e) => [e, [] as number[]])) as Record<Endpoint, number[]>)
  for (const endpoint of ONLY) {
    const n = Math.max(5, Math.ceil(REQUESTS * (SHARE[endpoint] ?? 1)))
    const warm = Math.min(20, n)
    for (const p of sizes) for (let i = 0; i < warm; i++) await p.request(endpoint, n + i)
    for (let block = 0; block < n; block += BLOCK) {
      for (const [k, p] of sizes.entries()) {
        for (let i = block; i < Math.min(n, block + BLOCK); i++) times[k]![endpoint].push(await p.request(endpoint, i))
      }
    }
    progress(`  ${endpoint}: ${sizes.map((p, k) => `${p.engine} ${fmtInt(p.households)} p99 ${percentiles(times[k]![endpoint]).p99.toFixed(1)} ms`).join(', ')}`)
  }
  return sizes.map((p, k) => ({
    engine: p.engine, households: p.households, readings: p.loaded.readings, collections: p.loaded.collections, devices: p.loaded.devices, bytesPerReading: p.loaded.bytesPerReading, loadMs: p.loadMs,
    latency: Object.fromEntries(ONLY.map((e) => {
      const q = percentiles(times[k]![e])
      return [e, { p50: q.p50, p99: q.p99, max: q.max, count: q.count }]
    })) as SizeResult['latency'],
  }))
}

async function runEngine(engine: SizeResult['engine'], households: number[], readingDays: number): Promise<SizeResult[]> {
  const prepared: Prepared[] = []
  try {
    for (const h of households) prepared.push(await prepare(engine, h, readingDays))
    progress(`${engine}: timing ${REQUESTS} requests per endpoint and size, the sizes alternating`)
    return await measure(prepared)
  } finally {
    for (const p of prepared) await p.close()
  }
}

const loadStart = loadAverage()
console.log(`# Query latency at two data sizes ten times apart — ${new Date().toISOString()}`)
console.log(`machine: ${machine()}; load average at the start ${loadStart}`)
// Days of readings so that the larger city holds READINGS_LARGE: its sensors are SENSOR_SHARE of
// about 2.3 wheeled bins per household (the generator's mix); measured below, not assumed.
const sensorsLarge = Math.round(LARGE * 2.3 * SENSOR_SHARE)
const readingDays = Math.max(1, Math.ceil(READINGS_LARGE / (sensorsLarge * (24 * 60 / READING_EVERY_MIN))))
const results: SizeResult[] = [...await runEngine('postgresql', [SMALL, LARGE], readingDays)]
if (!values['skip-embedded']) results.push(...await runEngine('embedded', values['embedded-large'] ? [SMALL, LARGE] : [SMALL], readingDays))

console.log('\n' + table(
  ['engine', 'households', 'devices', 'readings', 'bytes/reading', 'collections', 'load'],
  results.map((r) => [r.engine, fmtInt(r.households), fmtInt(r.devices), fmtInt(r.readings), r.bytesPerReading === null ? '-' : fmtInt(r.bytesPerReading), fmtInt(r.collections), `${(r.loadMs / 1000).toFixed(0)} s`]),
))
for (const engine of ['postgresql', 'embedded'] as const) {
  const sized = results.filter((r) => r.engine === engine)
  if (sized.length === 0) continue
  console.log(`\n${engine}: latency per endpoint (requests each, p50 / p99 / max)`)
  console.log(table(['endpoint', ...sized.map((r) => `${fmtInt(r.households)}: n`), ...sized.flatMap((r) => [`${fmtInt(r.households)}: p50`, 'p99', 'max'])],
    ONLY.map((e) => [e, ...sized.map((r) => r.latency[e].count), ...sized.flatMap((r) => [`${r.latency[e].p50.toFixed(1)} ms`, `${r.latency[e].p99.toFixed(1)} ms`, `${r.latency[e].max.toFixed(1)} ms`])])))
}
const growth: Record<string, Record<string, number>> = {}
for (const engine of ['postgresql', 'embedded'] as const) {
  const [small, large] = [results.find((r) => r.engine === engine && r.households === SMALL), results.find((r) => r.engine === engine && r.households === LARGE)]
  if (!small || !large) continue
  growth[engine] = Object.fromEntries(ONLY.map((e) => [e, large.latency[e].p99 / small.latency[e].p99]))
}
// Targets (issue 18): every endpoint the dashboard calls, p99 under 50 ms at the larger size and
// growing less than 1.5 × from the smaller.
const large = results.find((r) => r.engine === 'postgresql' && r.households === LARGE)!
const small = results.find((r) => r.engine === 'postgresql' && r.households === SMALL)!
const targets = ONLY.map((e) => ({
  endpoint: e, p99Small: small.latency[e].p99, p99: large.latency[e].p99, growth: growth.postgresql![e]!,
  met: large.latency[e].p99 < 50 && growth.postgresql![e]! < 1.5,
}))
console.log(`\ntargets at ${fmtInt(LARGE)} households (PostgreSQL, ${fmtInt(large.devices)} devices, ${fmtInt(large.readings)} readings): p99 < 50 ms and growth < 1.5 × from ${fmtInt(SMALL)}`)
console.log(table(['endpoint', `p99 ${fmtInt(SMALL)}`, `p99 ${fmtInt(LARGE)}`, 'growth', 'target'],
  targets.map((t) => [t.endpoint, `${t.p99Small.toFixed(1)} ms`, `${t.p99.toFixed(1)} ms`, `${t.growth.toFixed(2)} ×`, t.met ? 'met' : 'NOT met'])))
console.log(`${targets.filter((t) => t.met).length} of ${targets.length} endpoints meet the target`)
const loadEnd = loadAverage()
console.log(`load average at the end: ${loadEnd}`)
emitResult({ bench: 'queries', machine: machine(), loadStart, loadEnd, quick, requests: REQUESTS, readingDays, results, growth, targets })
process.exit(0)
