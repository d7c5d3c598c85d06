// How long a Liverpool-sized registry takes on the embedded database: import (validation and
// writes), the collection calendar for eight weeks, a repeat import of the same file, and export.
// Run: node --import tsx bench/registry-city.ts [households=210000]
import { openDatabase } from '../storage/open-database.ts'
import { silentLogger } from '../core/log.ts'
import type { RegistryDataset } from '../core/contract/registry.ts'
import { importRegistry } from '../storage/registry/import.ts'
import { exportJson } from '../storage/registry/export.ts'
import { generateCalendar } from '../analysis/calendar/generate.ts'

const households = Number(process.argv[2] ?? 210_000)
const PER_ROUND = 1_100
const STREAMS = ['residual', 'recycling', 'garden', 'food'] as const

function city(n: number): Required<RegistryDataset> {
  const uprns = Array.from({ length: n }, (_, i) => 10_000_000_000 + i)
  const ds: Required<RegistryDataset> = {
    contractors: [{ contractorId: 'acme', name: 'Acme' }],
    households: uprns.map((uprn, i) => ({ uprn, address: `${(i % 200) + 1} Street ${Math.floor(i / 200)}`, street: `Street ${Math.floor(i / 200)}`, postcode: 'L1 1AA', ward: `Ward ${i % 30}`, lat: 53.4 + (i % 1000) / 10_000, lon: -2.99 + Math.floor(i / 1000) / 10_000 })),
    bins: [], vehicles: [], contracts: [{ contractId: 'k1', contractorId: 'acme', name: 'Main', startsOn: '2024-04-01' }],
    rounds: [], roundStops: [], subscriptions: [],
  }
  const rounds = Math.ceil(n / PER_ROUND)
  for (let v = 0; v < 60; v++) ds.vehicles.push({ vehicleId: `rcv-${v}`, contractorId: 'acme', registration: `KB${v}` })
  uprns.forEach((uprn, i) => {
    ds.bins.push({ binId: `b${uprn}r`, uprn, stream: 'residual', rfidTag: `T${uprn}R`, capacityL: 240 })
    ds.bins.push({ binId: `b${uprn}c`, uprn, stream: 'recycling', rfidTag: `T${uprn}C`, capacityL: 240 })
    if (i % 10 < 3) {
      ds.bins.push({ binId: `b${uprn}g`, uprn, stream: 'garden', rfidTag: `T${uprn}G`, capacityL: 240 })
      ds.subscriptions.push({ uprn, stream: 'garden', startsOn: '2026-03-01' })
    }
    if (i % 10 < 1) ds.bins.push({ binId: `b${uprn}f`, uprn, stream: 'food', capacityL: 23 })
  })
  for (let r = 0; r < rounds; r++) {
    const weekday = (r % 5) + 1
    const monday = 5 // 2026-01-05 is a Monday
    for (const [s, stream] of STREAMS.entries()) {
      const anchor = `2026-01-${String(monday + weekday - 1 + (stream === 'recycling' ? 7 : 0)).padStart(2, '0')}`
      const roundId = `${stream}-${r}`
      ds.rounds.push({ roundId, contractId: 'k1', name: roundId, stream, vehicleId: `rcv-${(r * 4 + s) % 60}`, weekday, frequency: stream === 'food' ? 'weekly' : 'fortnightly', anchorDate: anchor, subscription: stream === 'garden' })
      uprns.slice(r * PER_ROUND, (r + 1) * PER_ROUND).forEach((uprn, position) => ds.roundStops.push({ roundId, uprn, position }))
    }
  }
  return ds
}

const t = (label: string, t0: number) => console.log(`${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s`)
const ds = city(households)
console.log(`city: ${ds.households.length} households, ${ds.bins.length} bins, ${ds.rounds.length} rounds, ${ds.roundStops.length} stops, ${ds.subscriptions.length} subscriptions`)
let t0 = performance.now()
const db = await openDatabase({ logger: silentLogger })
t('open database', t0)
t0 = performance.now()
const started: Record<string, number> = {}
let checked = false
const report = await importRegistry(db, ds, {
  calendar: false,
  onProgress: ({ entity, done, total }) => {
    if (!checked) t('  validation', t0)
    checked = true
    if (done === 0) started[entity] = performance.now()
    if (done === total) t(`  ${entity} (${total})`, started[entity]!)
  },
})
t(`import (ok=${report.ok}, ${report.errors.length} errors)`, t0)
const range = { from: '2026-11-23', to: '2027-01-18', today: '2026-11-22' }
t0 = performance.now()
const cal = await generateCalendar(db, range)
t(`calendar, first run (${cal.collections} collections, ${cal.inserted} inserted)`, t0)
t0 = performance.now()
const cal2 = await generateCalendar(db, range)
t(`calendar, repeat run (${cal2.inserted} inserted, ${cal2.updated} updated, ${cal2.removed} removed)`, t0)
t0 = performance.now()
const oneRound = ds.roundStops.filter((s) => s.roundId === 'residual-0').slice(1)
const edit = await importRegistry(db, { roundStops: oneRound }, { calendar: range })
t(`a household leaves a round: import + calendar of that round (${edit.counts.roundStops.removed} stop removed, ${edit.calendar?.removed} collections removed)`, t0)
t0 = performance.now()
const again = await importRegistry(db, ds, { calendar: false })
t(`repeat import (unchanged households ${again.counts.households.unchanged})`, t0)
t0 = performance.now()
let bytes = 0
for await (const piece of exportJson(db)) bytes += piece.length
t(`export JSON (${(bytes / 1e6).toFixed(0)} MB)`, t0)
await db.close()
