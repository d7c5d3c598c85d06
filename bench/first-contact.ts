// npm run bench:first-contact — the contact centre's first-contact check, with eight weeks of data for a
// 20,000-household city (the issue's target: p99 under 50 ms).
//
// Setup: the seeded city generator and the simulation (GMT and BST, Easter), its device messages
// written through ingest's write path (writeBatch), the residents' reports filed, every collection
// classified. Then, at the end of the last working day's round (Friday 18:30), checks as a contact
// centre makes them — most without a date (the latest collection), some about a recent date, some
// about any day of the eight weeks, a tenth in the morning while the rounds are out — timed through the
// real route (GET /api/v1/households/{uprn}/first-contact: auth, validation, the household audit
// log, serialisation) and as the bare function. Prints figures; asserts nothing.
//
//   node --import tsx bench/first-contact.ts [--quick] [households=20000] [checks=2000]   (--quick: 2,000 households, 200 checks)
import { loadavg } from 'node:os'
import { Registry } from 'prom-client'
import { buildApi } from '../api/build-api.ts'
import { addDays } from '../analysis/calendar/dates.ts'
import { firstContactCheck } from '../analysis/first-contact/check.ts'
import type { FirstContactAnswer } from '../analysis/first-contact/schema.ts'
import { classifyOutcomes } from '../analysis/outcomes/classify.ts'
import { silentLogger } from '../core/log.ts'
import type { WasteStream } from '../core/contract/domain.ts'
import { createApiKey } from '../storage/api-keys.ts'
import { openDatabase } from '../storage/open-database.ts'
import { createReport } from '../storage/reports.ts'
import { Random } from '../simulators/random.ts'
import { loadSimulatedCity } from '../tests/helpers/simulated-city.ts'
import { machine, percentiles, quick } from './lib.ts'

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const households = Number(positional[0] ?? (quick ? 2_000 : 20_000))
const checks = Number(positional[1] ?? (quick ? 200 : 2_000))
const START = '2026-03-02'
const WEEKS = 8
const ADMIN = 'ks_admin000000_BENCHBENCHBENCHBENCHBENCHBENCHBENCHBENCHBENCHBE'
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const n = (x: number) => x.toLocaleString('en-GB')

console.log(`machine: ${machine()}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
const db = await openDatabase({ logger: silentLogger })
let t0 = performance.now()
const sim = await loadSimulatedCity(db, {
  city: { seed: 2026, households, start: START, sensorShare: 0.05 },
  days: WEEKS * 7,
  behaviour: { sensors: { readingIntervalS: 2 * 3600 }, vehicles: { positionIntervalS: 30 } },
})
console.log(`${n(households)} households, ${WEEKS} weeks: ${n(sim.stored.lift)} lifts, ${n(sim.stored.position)} positions, ${n(sim.stored.reading)} readings `
  + `(registry and calendar ${s(sim.ms.install)}, simulate and write ${s(sim.ms.simulateAndWrite)})`)
t0 = performance.now()
for (const { report: r, form } of sim.reports) {
  await createReport(db, { serviceCode: r.serviceCode, stream: r.stream, uprn: r.uprn, collectionDate: form['attribute[collection_date]'] ?? null, locatedBy: 'uprn', source: 'bench', requestedAt: new Date(r.at) })
}
const classified = await classifyOutcomes(db, { from: START, to: addDays(START, WEEKS * 7 - 1), now: new Date(sim.endMs) })
console.log(`${n(sim.reports.length)} reports filed, ${n(classified.decided)} collections classified in ${s(performance.now() - t0)}`)

// What the contact centre is asked about, at the end of the last working day's round and in its morning.
const lastDay = addDays(START, WEEKS * 7 - 3) // Friday of week 8
const evening = new Date(`${lastDay}T17:30:00Z`) // 18:30 BST
const morning = new Date(`${lastDay}T10:00:00Z`) // 11:00 BST
const rng = new Random(7).fork('bench')
const { rows: recent } = await db.query<{ uprn: number; stream: WasteStream; due: string }>(
  `SELECT uprn, stream, due_date AS due FROM scheduled_collections WHERE due_date BETWEEN $1::date - 14 AND $1::date ORDER BY collection_id`, [lastDay],
)
const { rows: today } = await db.query<{ uprn: number; stream: WasteStream }>(`SELECT uprn, stream FROM scheduled_collections WHERE due_date = $1 ORDER BY collection_id`, [lastDay])
type Ask = { uprn: number; stream: WasteStream; date?: string; at: Date }
const asks: Ask[] = Array.from({ length: checks }, () => {
  const roll = rng.next()
  if (roll < 0.1) return { ...rng.pick(today), at: morning }
  const c = rng.pick(recent)
  if (roll < 0.6) return { uprn: c.uprn, stream: c.stream, at: evening }
  if (roll < 0.85) return { uprn: c.uprn, stream: c.stream, date: c.due, at: evening }
  return { uprn: c.uprn, stream: c.stream, date: addDays(START, rng.int(0, WEEKS * 7 - 1)), at: evening }
})

const app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN, rateLimitPerMinute: 1_000_000 }) // measure the check, not the rate limit
const key = (await createApiKey(db, 'bench contact centre', 'crm')).key
const url = (a: Ask) => `/api/v1/households/${a.uprn}/first-contact?${new URLSearchParams({ stream: a.stream, at: a.at.toISOString(), ...(a.date ? { date: a.date } : {}) })}`
for (const a of asks.slice(0, 50)) await app.inject({ url: url(a), headers: { authorization: `Bearer ${key}` } }) // warm-up

const http: number[] = []
const verdicts = new Map<string, number>()
for (const a of asks) {
  const t = performance.now()
  const res = await app.inject({ url: url(a), headers: { authorization: `Bearer ${key}` } })
  http.push(performance.now() - t)
  if (res.statusCode !== 200) throw new Error(`check answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
  const v = (res.json() as FirstContactAnswer).verdict
  verdicts.set(v, (verdicts.get(v) ?? 0) + 1)
}
const bare: number[] = []
for (const a of asks) {
  const t = performance.now()
  await firstContactCheck(db, { uprn: a.uprn, stream: a.stream, date: a.date ?? null, at: a.at })
  bare.push(performance.now() - t)
}
const fmt = (p: ReturnType<typeof percentiles>) => `p50 ${p.p50.toFixed(1)} ms, p90 ${p.p90.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms, max ${p.max.toFixed(1)} ms`
console.log(`verdicts: ${[...verdicts].map(([v, c]) => `${v} ${c}`).join(', ')}`)
console.log(`first-contact check over HTTP (${n(checks)} checks, one at a time): ${fmt(percentiles(http))}`)
console.log(`first-contact check, the function alone:             ${fmt(percentiles(bare))}`)
console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
await app.close()
await db.close()
