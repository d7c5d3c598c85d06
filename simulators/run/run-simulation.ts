// Running a simulation against a real Kerbside: every device message through the broker with the
// device's own credentials, every resident report through the Open311 API, paced by a simulated
// clock (or as fast as the stack takes them). The ground truth comes back in memory and, if asked,
// as a JSONL file.
import { encodeBinary } from '../../core/contract/codec.ts'
import { createClock, type SimClock } from '../clock.ts'
import type { SimOutput, Simulation } from '../model/simulation.ts'
import type { GroundTruth } from '../truth/ground-truth.ts'
import type { ReportTruth } from '../truth/records.ts'
import { DeviceFleet } from './device-fleet.ts'
import { ResidentReporter } from './resident-reporter.ts'

export interface RunOptions {
  simulation: Simulation
  /** Broker URL, e.g. mqtt://127.0.0.1:1883. */
  mqttUrl: string
  /** The secret the city's devices were provisioned with (installCity returns it). */
  secret: string
  /** Default: as fast as possible from the simulation's start. */
  clock?: SimClock
  /** Where residents file their reports; without it reports stay in the ground truth only. */
  api?: { url: string; key: string; concurrency?: number; gate?: (report: ReportTruth) => Promise<void> }
  /** Write the ground truth here as JSONL when the run ends. */
  truthFile?: string
  /** Device messages in flight at once; default 2,000. */
  maxInflight?: number
  /** Stop early (the demo stops on Ctrl-C); the truth then covers what ran. */
  signal?: AbortSignal
  /** Called each `progressEveryMs` of simulated time (default an hour). */
  onProgress?: (p: RunProgress) => void
  progressEveryMs?: number
  /**
   * A replayed past (the demo's weeks of history). Reports made before `until` cannot go through
   * Open311, which stamps a report with the time it arrives: `fileReport` files them with their own
   * time, once every message before them is stored (their assessment reads those lifts). When the
   * first output at or after `until` comes up, the runner waits for what it sent to be stored and
   * awaits `onDone` (the demo works out outcomes, KPIs and rewards of the past there), then carries on.
   */
  history?: {
    until: number
    /**
     * Where the past's device messages go instead of the broker (direct-writer.ts: ingest's own
     * decode and batch write, without the network); status changes of the past are left out.
     */
    store?: { add(out: Extract<SimOutput, { type: 'message' }>): Promise<void>; flush(): Promise<void> }
    fileReport: (report: ReportTruth, form: Record<string, string>) => Promise<void>
    onDone: (p: RunProgress) => Promise<void>
  }
}

export interface RunProgress {
  simTime: number
  messages: number
  reports: number
}

export interface RunResult {
  truth: GroundTruth
  /** Device messages published and acknowledged (status messages included). */
  messages: number
  reports: number
  realMs: number
  simulatedMs: number
  /** Acknowledged messages per real second. */
  messagesPerSecond: number
}

export class RunError extends Error {
  override name = 'KERBSIDE_ERR_SIM_RUN'
}

const HOUR = 3_600_000

export async function runSimulation(opts: RunOptions): Promise<RunResult> {
  const sim = opts.simulation
  const truth = sim.truth
  const clock = opts.clock ?? createClock({ start: sim.startMs, speed: 'max' })
  const t0 = performance.now()
  const fleet = new DeviceFleet({ url: opts.mqttUrl, secret: opts.secret, maxInflight: opts.maxInflight, truth })
  // The start in the prefix: a later run of the same city (a restarted demo) numbers its reports from 1 again.
  const reporter = opts.api ? new ResidentReporter({ url: opts.api.url, apiKey: opts.api.key, concurrency: opts.api.concurrency, gate: opts.api.gate, idempotencyPrefix: `kerbside-sim-${sim.seed}-${sim.startMs}` }) : null
  const history = opts.history
  let inHistory = history !== undefined && sim.startMs < history.until
  const offline = new Set<string>()
  let messages = 0
  let stored = 0
  let reports = 0
  let lastSimTime = sim.startMs
  try {
    // A history written straight to storage needs no connections; idle through it, they would time out.
    if (!(inHistory && history!.store)) await fleet.connectAll(sim.city.devices, sim.startMs)
    const every = opts.progressEveryMs ?? HOUR
    let nextProgress = sim.startMs + every
    for (const out of sim.outputs()) {
      if (opts.signal?.aborted) break
      if (inHistory && out.at >= history!.until) {
        inHistory = false
        await history!.store?.flush()
        await fleet.drain()
        await history!.onDone({ simTime: out.at, messages, reports })
        if (history!.store && !opts.signal?.aborted) await fleet.connectAll(sim.city.devices, Math.max(out.at, clock.now()))
        if (opts.signal?.aborted) break
      }
      await clock.waitUntil(out.at)
      lastSimTime = out.at
      const store = inHistory ? history!.store : undefined
      if (store && out.type !== 'report') {
        if (out.type === 'message') {
          await store.add(out)
          messages++
          stored++
        }
      } else switch (out.type) {
        case 'message':
          await fleet.room()
          fleet.publish(out.deviceId, out.kind, out.binary ? encodeBinary(out.body) : JSON.stringify(out.body), out.binary)
          messages++
          break
        case 'offline':
          offline.add(out.deviceId)
          await fleet.goOffline(out.deviceId, out.at)
          break
        case 'online':
          // A spell that began in a stored history never took the device off the broker.
          if (offline.delete(out.deviceId)) await fleet.goOnline(out.deviceId, out.at)
          break
        case 'report':
          reports++
          if (inHistory) {
            await history!.store?.flush()
            await fleet.drain()
            await history!.fileReport(out.report, out.form)
          } else reporter?.submit(out.report, out.form)
          break
      }
      if (out.at >= nextProgress) {
        opts.onProgress?.({ simTime: out.at, messages, reports })
        nextProgress = out.at - (out.at % every) + every
      }
      if (fleet.errors.length > 0) throw fleet.errors[0]
    }
    await fleet.drain()
    await reporter?.flush()
    if (fleet.errors.length > 0) throw fleet.errors[0]
  } finally {
    await fleet.close().catch(() => undefined)
  }
  if (opts.truthFile) await truth.writeJsonl(opts.truthFile)
  const a = truth.acknowledged
  const realMs = performance.now() - t0
  if (a.reading + a.lift + a.position < messages - stored) throw new RunError(`${messages - stored - a.reading - a.lift - a.position} device messages were not acknowledged by the broker`)
  const acked = a.reading + a.lift + a.position + a.status + stored
  return { truth, messages: acked, reports, realMs, simulatedMs: lastSimTime - sim.startMs, messagesPerSecond: acked / (realMs / 1000) }
}
