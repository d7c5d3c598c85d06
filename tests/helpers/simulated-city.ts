// A simulated city with its history in the database, for the ground-truth tests and the benchmarks of
// the collection-outcome analysis: the city generator's registry (installCity: registry import and
// calendar), then every device message the simulation yields written through ingest's own write path
// (writeBatch, in batches, each in one transaction, as ingest commits them), without the broker: eight
// weeks of a 20,000-household city would take far longer through MQTT than the analysis does.
// Residents' reports are returned, in time order, for the caller to file when and how it wants.
import { addDays } from '../../analysis/calendar/dates.ts'
import type { ContractMessage } from '../../core/contract/messages.ts'
import { deviceTopic, parseTopic } from '../../core/contract/topics.ts'
import { writeBatch, type DecodedItem } from '../../ingest/write-batch.ts'
import { generateCity } from '../../simulators/city/generate-city.ts'
import type { City, CityOptions } from '../../simulators/city/city.ts'
import { installCity } from '../../simulators/install-city.ts'
import type { BehaviourOptions } from '../../simulators/model/behaviour.ts'
import { createSimulation, type SimOutput } from '../../simulators/model/simulation.ts'
import type { GroundTruth } from '../../simulators/truth/ground-truth.ts'
import type { ReportTruth } from '../../simulators/truth/records.ts'
import type { Database } from '../../storage/database.ts'

export interface SimulatedCityOptions {
  city: CityOptions
  /** Days to simulate from the city's start. */
  days: number
  /** The simulation's behaviour; a function of the city to single out its rounds or vehicles. */
  behaviour?: BehaviourOptions | ((city: City) => BehaviourOptions)
  /** Messages per writeBatch transaction; default 5,000. */
  batchSize?: number
}

export interface SimulatedReport { report: ReportTruth; form: Record<string, string> }

export interface SimulatedCity {
  city: City
  truth: GroundTruth
  reports: SimulatedReport[]
  stored: { reading: number; lift: number; position: number; status: number }
  /** Simulated instant the run ended at. */
  endMs: number
  ms: { install: number; simulateAndWrite: number }
}

export async function loadSimulatedCity(db: Database, opts: SimulatedCityOptions): Promise<SimulatedCity> {
  const t0 = performance.now()
  const city = generateCity(opts.city)
  const start = city.options.start
  // The calendar from a week before the start (the first week's bank-holiday shifts) to a fortnight
  // after the end, so that every simulated collection has its next one scheduled.
  await installCity(db, city, { calendar: { from: addDays(start, -7), to: addDays(start, opts.days + 14), today: addDays(start, -8) } })
  const t1 = performance.now()
  const behaviour = typeof opts.behaviour === 'function' ? opts.behaviour(city) : opts.behaviour
  const sim = createSimulation(city, { days: opts.days, truthReadings: false, behaviour })
  const kinds = new Map(city.devices.map((d) => [d.deviceId, d.kind]))
  const stored = { reading: 0, lift: 0, position: 0, status: 0 }
  const reports: SimulatedReport[] = []
  let batch: DecodedItem[] = []
  const flush = async () => {
    if (batch.length === 0) return
    const items = batch
    batch = []
    const stats = await db.transaction((tx) => writeBatch(tx, items, { invalidateRollup: !db.capabilities.continuousAggregates }))
    stored.reading += stats.stored.reading
    stored.lift += stats.stored.lift
    stored.position += stats.stored.position
    stored.status += stats.statusChanges
  }
  for (const out of sim.outputs()) {
    const item = toItem(out, kinds)
    if (item) batch.push(item)
    else if (out.type === 'report') reports.push({ report: out.report, form: out.form })
    if (batch.length >= (opts.batchSize ?? 5_000)) await flush()
  }
  await flush()
  return { city, truth: sim.truth, reports, stored, endMs: sim.endMs, ms: { install: t1 - t0, simulateAndWrite: performance.now() - t1 } }
}

/** A simulated device message as ingest decodes it (the payload as JSON; the simulation's CBOR share is ingest's concern, tested there). */
function toItem(out: SimOutput, kinds: Map<string, 'bin' | 'vehicle'>): DecodedItem | null {
  if (out.type === 'report') return null
  const kind = kinds.get(out.deviceId)!
  const receivedAt = new Date(out.at)
  if (out.type === 'offline' || out.type === 'online') {
    const topic = deviceTopic(kind, out.deviceId, 'status')
    const body = { online: out.type === 'online', ts: receivedAt.toISOString() }
    return { topic, payload: Buffer.from(JSON.stringify(body)), receivedAt, parsed: parseTopic(topic), result: { ok: true, message: { kind: 'status', body } } }
  }
  const topic = deviceTopic(kind, out.deviceId, out.kind)
  const message = { kind: out.kind, body: out.body } as ContractMessage
  return { topic, payload: Buffer.from(JSON.stringify(out.body)), receivedAt, parsed: parseTopic(topic), result: { ok: true, message } }
}
