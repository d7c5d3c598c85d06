// The simulation itself: a discrete-event model of a city's bins, sensors, crews and residents that
// yields, in simulated-time order, everything the devices publish and the residents report. It does
// no I/O and reads no clock: the same city, seed and behaviour give the same outputs, whatever runs
// them (see run/run-simulation.ts for the runner that sends them through the broker and the API).
//
// Planning happens ahead, as it does in life: the evening before a collection day, residents put
// their bins out (or not) and each round's day is worked out stop by stop — what the crew will do,
// when it gets there, what each bin weighs, when the vehicle fills and tips. Spare vehicles plan
// their day at 05:00 from yesterday's unfinished work and the misses residents have reported.
// (round-day.ts and spare-day.ts do the planning; this file keeps time, devices and reports.)
import type { DeviceKind } from '../../core/contract/topics.ts'
import { addDays, type IsoDate } from '../../analysis/calendar/dates.ts'
import type { City, CityStream, CityVehicle } from '../city/city.ts'
import { Random } from '../random.ts'
import { DAY_MS, iso, londonDate, londonInstant, MINUTE_MS, WorkingDays } from '../time.ts'
import { GroundTruth } from '../truth/ground-truth.ts'
import type { CollectionTruth, ReportTruth } from '../truth/records.ts'
import { crewFor, resolveBehaviour, type BehaviourOptions, type SimulationBehaviour } from './behaviour.ts'
import { FillModel } from './bin-fill.ts'
import { createSensorAgent, measure, type BinFire, type OfflineSpell, type SensorAgent } from './bin-sensor.ts'
import { EventQueue } from './event-queue.ts'
import { judgeReport, planReport, planWrongWeekReport, reportWindow, type PlannedReport, type ReportWindow } from './residents.ts'
import { previousRun, roundRunsByDueDate, type RoundRun } from './schedule.ts'
import { planRoundDay, type DayPlanning, type Pending, type PlannedMessage } from './round-day.ts'
import { planSpareDay } from './spare-day.ts'

export interface SimulationOptions {
  /** Simulated instant to start at; default London midnight at the start of the city's start day. */
  start?: Date | number
  /** Days to simulate (default 7), or an end instant. */
  days?: number
  end?: Date | number
  /** Seed of the events (default the city's seed). */
  seed?: number
  behaviour?: BehaviourOptions
  /** Keep every sensor reading in the ground truth (default true). */
  truthReadings?: boolean
  /**
   * A quieter past (the demo's history, replayed in seconds): before `until`, sensors report every
   * `readingIntervalS` (up to its last three hours) and vehicles send no positions (nobody watches a map of last month), so that
   * weeks of a city cost tens of thousands of messages, not millions. Lifts, exceptions and reports
   * are as in the present.
   */
  history?: { until: Date | number; readingIntervalS: number }
  /** Each device's last seq already used (a demo restarted on its own data): numbering carries on after it. */
  lastSeqs?: ReadonlyMap<string, number>
}

export type SimMessageKind = 'reading' | 'lift' | 'position'

export type SimOutput =
  | { type: 'message'; at: number; deviceId: string; deviceKind: DeviceKind; kind: SimMessageKind; body: Record<string, unknown>; binary: boolean }
  | { type: 'offline'; at: number; deviceId: string }
  | { type: 'online'; at: number; deviceId: string }
  | { type: 'report'; at: number; report: ReportTruth; form: Record<string, string> }

export class SimulationError extends Error {
  override name = 'KERBSIDE_ERR_SIMULATION'
}

interface VehicleAgent { vehicle: CityVehicle; queue: PlannedMessage[]; cursor: number; generation: number; armedAt: number }

type Ev =
  | { kind: 'plan-rounds'; date: IsoDate }
  | { kind: 'plan-spares'; date: IsoDate }
  | { kind: 'vehicle'; agent: VehicleAgent; generation: number }
  | { kind: 'reading'; sensor: SensorAgent }
  | { kind: 'fire-tick'; sensor: SensorAgent; fire: BinFire }
  | { kind: 'offline-start' | 'offline-end'; sensor: SensorAgent; spell: OfflineSpell }
  | { kind: 'report'; plan: PlannedReport }

const FIRE_TICK_MS = 10 * MINUTE_MS

export class Simulation {
  readonly truth: GroundTruth
  readonly behaviour: SimulationBehaviour
  readonly startMs: number
  readonly endMs: number
  readonly seed: number

  private readonly rng: Random
  private readonly days: WorkingDays
  private readonly fill: FillModel
  private readonly queue = new EventQueue<Ev>()
  private readonly seqs = new Map<string, number>()
  private readonly vehicles = new Map<string, VehicleAgent>()
  private readonly sensors: SensorAgent[] = []
  private readonly sensorOfBin = new Map<number, SensorAgent>()
  private readonly runsByDue: Map<IsoDate, RoundRun[]>
  /** Round index per stream and household, for the state bins start in. */
  private readonly roundOf: Record<CityStream, Int32Array>
  /** When each collection was decided on its day (lift, exception, drive-past or round end). */
  private readonly decidedAt = new Map<string, number>()
  private readonly keyByDue = new Map<string, string>()
  private readonly windows = new Map<string, ReportWindow>()
  /** Work for spare vehicles, by the working day it is due. */
  private readonly backlog = new Map<IsoDate, Pending[]>()
  private readonly returns = new Map<IsoDate, Pending[]>()
  private readonly returnRequested = new Set<string>()
  private readonly refs = new Map<string, { bin: number; household: number }>()
  private readonly previousRuns = new Map<number, number>()
  private readonly planning: DayPlanning
  private readonly historyUntil: number
  private readonly historyIntervalMs: number
  private reportSerial = 0
  private plannedReports = 0
  private started = false

  constructor(readonly city: City, opts: SimulationOptions = {}) {
    this.behaviour = resolveBehaviour(opts.behaviour)
    this.seed = opts.seed ?? city.options.seed
    this.startMs = toMs(opts.start) ?? londonInstant(city.options.start, 0)
    this.endMs = toMs(opts.end) ?? this.startMs + (opts.days ?? 7) * DAY_MS
    if (!(this.endMs > this.startMs)) throw new SimulationError('the simulation must end after it starts')
    this.historyUntil = toMs(opts.history?.until) ?? -Infinity
    this.historyIntervalMs = (opts.history?.readingIntervalS ?? 3600) * 1000
    if (opts.history && !(this.historyIntervalMs >= 10_000)) throw new SimulationError('history.readingIntervalS must be at least 10 seconds')
    for (const [deviceId, seq] of opts.lastSeqs ?? []) this.seqs.set(deviceId, seq)
    this.rng = new Random(this.seed).fork('simulation')
    this.truth = new GroundTruth(opts.truthReadings ?? true)
    const startDate = londonDate(this.startMs)
    const endDate = londonDate(this.endMs - 1)
    this.days = new WorkingDays(startDate, endDate)
    this.runsByDue = roundRunsByDueDate(city, startDate, endDate, this.days)
    this.truth.meta = {
      type: 'meta', seed: this.seed, households: city.households.length, start: iso(this.startMs), end: iso(this.endMs), behaviour: this.behaviour,
      reportWindow: { opensHour: city.contract.reportOpensHour, workingDays: city.contract.reportWindowWorkingDays },
    }

    this.roundOf = Object.fromEntries((['residual', 'recycling', 'garden', 'food'] as const).map((s) => [s, new Int32Array(city.households.length).fill(-1)])) as Record<CityStream, Int32Array>
    city.rounds.forEach((r, ri) => { for (const h of r.stops) this.roundOf[r.stream][h] = ri })
    this.fill = new FillModel(city, this.rng.fork('fill'), (bin) => this.firstEmptying(bin))

    this.planning = {
      city, behaviour: this.behaviour, rng: this.rng, fill: this.fill, truth: this.truth, days: this.days, startMs: this.startMs, sensorOfBin: this.sensorOfBin,
      positionsFrom: this.historyUntil,
      decided: (c, key, decidedAt, ref) => {
        this.truth.collections.set(key, c)
        this.decidedAt.set(key, decidedAt)
        this.keyByDue.set(`${c.uprn}|${c.stream}|${c.dueDate}`, key)
        this.refs.set(key, ref)
      },
      later: (date, work) => this.addWork(this.backlog, date, work),
      residents: (c, key, r, roundStartAt, decidedAt) => this.planResidentReports(c, key, r, roundStartAt, decidedAt),
      wrongWeek: (uprn, stream, dueDate, r, roundEndAt) => this.pushReport(planWrongWeekReport(r, this.behaviour.residents, uprn, stream, dueDate, this.windowFor(dueDate), roundEndAt, ++this.plannedReports)),
    }
    for (const v of city.vehicles) this.vehicles.set(v.vehicleId, { vehicle: v, queue: [], cursor: 0, generation: 0, armedAt: Infinity })
    for (const bin of city.bins) {
      if (!bin.sensorDeviceId) continue
      const agent = createSensorAgent({ deviceId: bin.sensorDeviceId, bin: bin.index, binId: bin.binId, uprn: bin.uprn, rng: this.rng.fork('sensor', bin.sensorDeviceId), behaviour: this.behaviour.sensors, startMs: this.startMs, endMs: this.endMs - MINUTE_MS })
      this.sensors.push(agent)
      this.sensorOfBin.set(bin.index, agent)
    }
  }

  /** Every device message, status change and resident report, in simulated-time order. */
  *outputs(): Generator<SimOutput> {
    if (this.started) throw new SimulationError('a simulation runs once; create another to run again')
    this.started = true
    this.schedule()
    for (;;) {
      const next = this.queue.peekTime()
      if (next === undefined || next >= this.endMs) break
      const { at, value } = this.queue.pop()!
      yield* this.handle(at, value)
    }
    this.finish()
  }

  // ---- set-up ----------------------------------------------------------------------------------

  private schedule(): void {
    for (const s of this.sensors) {
      this.queue.push(this.startMs + Math.round(s.rng.between(0, this.intervalAt(s, this.startMs))), { kind: 'reading', sensor: s })
      for (const spell of s.spells) {
        if (spell.to - spell.from < 5 * MINUTE_MS) continue
        this.queue.push(spell.from, { kind: 'offline-start', sensor: s, spell })
        this.queue.push(spell.to, { kind: 'offline-end', sensor: s, spell })
      }
      for (const fire of s.fires) {
        // The fire burns the contents: the bin is empty afterwards. Planned now, before any lift.
        this.fill.empty(s.bin, fire.end)
        this.truth.fires.push({ type: 'fire', deviceId: s.deviceId, binId: s.binId, uprn: s.uprn, startAt: iso(fire.start), endAt: iso(fire.end), peakTempC: fire.peakTempC })
        this.queue.push(fire.start, { kind: 'fire-tick', sensor: s, fire })
      }
    }
    for (const date of [...this.runsByDue.keys()].sort()) {
      this.queue.push(Math.max(this.startMs, londonInstant(addDays(date, -1), 18 * 60)), { kind: 'plan-rounds', date })
    }
    for (let d = londonDate(this.startMs); londonInstant(d, 0) < this.endMs; d = addDays(d, 1)) {
      if (this.days.isWorkingDay(d)) this.queue.push(Math.max(this.startMs, londonInstant(d, 5 * 60)), { kind: 'plan-spares', date: d })
    }
  }

  /** A bin's history starts at its round's last collection before the simulation (10:00 that day). */
  private firstEmptying(bin: number): number {
    const b = this.city.bins[bin]!
    const ri = this.roundOf[b.stream][b.household]!
    let at = this.previousRuns.get(ri)
    if (at === undefined) {
      const date = londonDate(this.startMs - 1)
      at = londonInstant(ri >= 0 ? previousRun(this.city.rounds[ri]!, date) : addDays(date, -7), 10 * 60)
      this.previousRuns.set(ri, at)
    }
    return at
  }

  // ---- events ----------------------------------------------------------------------------------

  private *handle(at: number, ev: Ev): Generator<SimOutput> {
    switch (ev.kind) {
      case 'plan-rounds': this.planRounds(ev.date, at); break
      case 'plan-spares': this.planSpares(ev.date); break
      case 'vehicle': yield* this.vehicleStep(ev.agent, ev.generation, at); break
      case 'reading': yield* this.reading(ev.sensor, at, false); break
      case 'fire-tick':
        if (at < ev.fire.end) {
          yield* this.reading(ev.sensor, at, true)
          this.queue.push(at + FIRE_TICK_MS, ev)
        }
        break
      case 'offline-start':
        ev.sensor.offline = ev.spell
        yield { type: 'offline', at, deviceId: ev.sensor.deviceId }
        break
      case 'offline-end': {
        const spell = ev.spell
        ev.sensor.offline = null
        yield { type: 'online', at, deviceId: ev.sensor.deviceId }
        // Held readings go out on reconnect, oldest first, with their own seq and time.
        for (const h of spell.held) yield { type: 'message', at, deviceId: ev.sensor.deviceId, deviceKind: 'bin', kind: 'reading', body: { seq: h.seq, ts: iso(h.at), ...h.body }, binary: ev.sensor.cbor }
        this.truth.offline.push({ type: 'offline', deviceId: ev.sensor.deviceId, from: iso(spell.from), to: iso(spell.to), mode: ev.sensor.mode, bufferedSeqs: spell.bufferedSeqs, lostSeqs: spell.lostSeqs })
        break
      }
      case 'report': yield* this.report(ev.plan, at); break
    }
  }

  /**
   * A sensor's reading interval at an instant: the quieter one in the history, its own after and in
   * the history's last three hours (so that no sensor looks offline, unheard of for hours, when the
   * present begins).
   */
  private intervalAt(s: SensorAgent, at: number): number {
    return at < this.historyUntil - 3 * 3_600_000 ? Math.max(s.intervalMs, this.historyIntervalMs) : s.intervalMs
  }

  private nextSeq(deviceId: string): number {
    const seq = (this.seqs.get(deviceId) ?? 0) + 1
    this.seqs.set(deviceId, seq)
    return seq
  }

  private *reading(s: SensorAgent, at: number, alarm: boolean): Generator<SimOutput> {
    if (!alarm) {
      const jitter = Math.round(s.rng.between(-30_000, 30_000))
      this.queue.push(at + this.intervalAt(s, at) + jitter, { kind: 'reading', sensor: s })
    }
    const spell = s.offline
    if (spell && s.mode === 'skip') return // an offline sensor in skip mode takes no reading
    const trueFill = this.fill.fillPct(s.bin, at)
    const m = measure(s, at, trueFill, this.behaviour.sensors.noisePct)
    const seq = this.nextSeq(s.deviceId)
    this.truth.generated.reading++
    const delivery = !spell ? 'sent' : s.mode === 'buffer' ? 'buffered' : 'lost'
    if (this.truth.keepReadings) {
      this.truth.readings.push({ type: 'reading', deviceId: s.deviceId, binId: s.binId, seq, ts: iso(at), trueFillPct: Math.round(trueFill * 100) / 100, ...m.body, delivery })
    }
    if (delivery === 'sent') {
      yield { type: 'message', at, deviceId: s.deviceId, deviceKind: 'bin', kind: 'reading', body: { seq, ts: iso(at), ...m.body }, binary: s.cbor }
    } else if (delivery === 'buffered') {
      spell!.held.push({ at, seq, body: m.body })
      spell!.bufferedSeqs.push(seq)
    } else {
      spell!.lostSeqs.push(seq)
      this.truth.lostSeqs++
    }
  }

  private *vehicleStep(agent: VehicleAgent, generation: number, at: number): Generator<SimOutput> {
    if (generation !== agent.generation) return // re-armed since
    agent.armedAt = Infinity
    const item = agent.queue[agent.cursor]
    if (!item || item.at !== at) return this.arm(agent)
    agent.cursor++
    const deviceId = agent.vehicle.unitDeviceId
    const seq = this.nextSeq(deviceId)
    const ts = iso(at)
    this.truth.generated[item.kind]++
    item.onSent?.(seq, ts)
    yield { type: 'message', at, deviceId, deviceKind: 'vehicle', kind: item.kind, body: { seq, ts, ...item.body }, binary: false }
    // Drop what has been sent now and then, so a long run does not keep every day's plan.
    if (agent.cursor > 10_000) {
      agent.queue.splice(0, agent.cursor)
      agent.cursor = 0
    }
    this.arm(agent)
  }

  /** Put the vehicle's next planned message on the event queue. */
  private arm(agent: VehicleAgent): void {
    const next = agent.queue[agent.cursor]
    if (!next || next.at >= agent.armedAt) return
    agent.generation++
    agent.armedAt = next.at
    this.queue.push(next.at, { kind: 'vehicle', agent, generation: agent.generation })
  }

  private plan(agent: VehicleAgent, items: PlannedMessage[], now: number): void {
    const fresh = items.filter((i) => i.at >= now)
    if (fresh.length === 0) return
    const rest = agent.queue.slice(agent.cursor)
    agent.queue = rest.concat(fresh).sort((a, b) => a.at - b.at)
    agent.cursor = 0
    agent.armedAt = Infinity
    this.arm(agent)
  }

  // ---- rounds ----------------------------------------------------------------------------------

  private planRounds(date: IsoDate, now: number): void {
    const runs = this.runsByDue.get(date) ?? []
    const byVehicle = new Map<string, RoundRun[]>()
    for (const run of runs) {
      const list = byVehicle.get(run.round.vehicleId)
      if (list) list.push(run)
      else byVehicle.set(run.round.vehicleId, [run])
    }
    for (const [vehicleId, list] of byVehicle) {
      const agent = this.vehicles.get(vehicleId)
      if (!agent) throw new SimulationError(`round ${list[0]!.round.roundId} names vehicle ${vehicleId}, which the city does not have`)
      let free = 0
      const items: PlannedMessage[] = []
      for (const run of list) free = planRoundDay(this.planning, run, agent.vehicle, free, now, items)
      this.plan(agent, items, now)
    }
  }

  private windowFor(dueDate: IsoDate): ReportWindow {
    let w = this.windows.get(dueDate)
    if (!w) this.windows.set(dueDate, (w = reportWindow(dueDate, this.city.contract.reportOpensHour, this.city.contract.reportWindowWorkingDays, this.days)))
    return w
  }

  private planResidentReports(c: CollectionTruth, key: string, r: Random, roundStartAt: number, decidedAt: number): void {
    const plan = planReport({ r, behaviour: this.behaviour.residents, collection: c, key, window: this.windowFor(c.dueDate), days: this.days, roundStartAt, decidedAt, serial: this.plannedReports + 1 })
    if (plan) {
      this.plannedReports++
      this.pushReport(plan)
    }
  }

  private pushReport(plan: PlannedReport): void {
    if (plan.at < this.endMs) this.queue.push(plan.at, { kind: 'report', plan })
  }

  private addWork(map: Map<IsoDate, Pending[]>, date: IsoDate, p: Pending): void {
    const list = map.get(date)
    if (list) list.push(p)
    else map.set(date, [p])
  }

  // ---- spare vehicles: late collections and return visits ---------------------------------------

  private planSpares(date: IsoDate): void {
    const pending = [...(this.backlog.get(date) ?? []), ...(this.returns.get(date) ?? [])]
    this.backlog.delete(date)
    this.returns.delete(date)
    const now = londonInstant(date, 5 * 60)
    for (const [vehicleId, items] of planSpareDay(this.planning, date, pending)) this.plan(this.vehicles.get(vehicleId)!, items, now)
  }

  // ---- residents' reports ----------------------------------------------------------------------

  private *report(plan: PlannedReport, at: number): Generator<SimOutput> {
    const key = plan.collectionKey ?? this.keyByDue.get(`${plan.uprn}|${plan.stream}|${plan.dueDate}`) ?? null
    const c = key ? this.truth.collections.get(key) : undefined
    // Most residents who meant to report a miss see the bin has been emptied since, and do not.
    if (plan.intent === 'missed' && c?.collectedAt && Date.parse(c.collectedAt) <= at && !this.rng.fork('second-look', plan.uprn, at).chance(0.15)) return
    const window = this.windowFor(plan.dueDate)
    const j = judgeReport(at, c, key ? this.decidedAt.get(key) : undefined, window)
    const report: ReportTruth = {
      type: 'report', id: ++this.reportSerial, at: iso(at), uprn: plan.uprn, stream: plan.stream, serviceCode: `missed_${plan.stream}`,
      collectionDate: plan.giveDate ? plan.dueDate : null, scheduledDate: c?.scheduledDate ?? null, dueDate: c?.dueDate ?? null,
      genuine: j.genuine, reason: j.reason, observable: j.observable, outcomeAtReport: j.outcomeAtReport,
      windowOpensAt: c ? iso(window.opensAt) : null, windowClosesAt: c ? iso(window.closesAt) : null,
      serviceRequestId: null, postedAt: null, httpStatus: null, error: null,
    }
    this.truth.reports.push(report)
    if (c && c.firstReportAt === null) c.firstReportAt = report.at
    // A valid report sends a crew back, unless the round's own unfinished work is already on its way.
    if (c && key && j.genuine && !this.returnRequested.has(key) && !(c.missCause === 'unfinished' || (c.missCause === 'breakdown' && this.isRecovering(c)))) {
      this.returnRequested.add(key)
      const r = this.rng.fork('return', key)
      const crew = crewFor(this.behaviour, c.roundId, c.vehicleId)
      const day = r.chance(crew.rectifyOnTime) ? this.days.after(londonDate(at)) : this.days.after(londonDate(at), r.int(2, 4))
      const ref = this.refs.get(key)!
      this.addWork(this.returns, day, { key, ...ref, visit: 'return' })
    }
    const form: Record<string, string> = {
      service_code: report.serviceCode,
      address_id: String(plan.uprn),
      'attribute[uprn]': String(plan.uprn),
      description: plan.description,
      first_name: plan.person.firstName,
      last_name: plan.person.lastName,
      email: plan.person.email,
      phone: plan.person.phone,
    }
    if (report.collectionDate) form['attribute[collection_date]'] = report.collectionDate
    yield { type: 'report', at, report, form }
  }

  private isRecovering(c: CollectionTruth): boolean {
    return crewFor(this.behaviour, c.roundId, c.vehicleId).breakdownRecovery === 'next_day'
  }

  // ---- end -------------------------------------------------------------------------------------

  private finish(): void {
    // Collections not yet decided when the simulation stopped have no outcome to tell.
    for (const [key, at] of this.decidedAt) if (at >= this.endMs) this.truth.collections.delete(key)
    // Offline spells still open (they end inside the simulation, so none should be).
    for (const s of this.sensors) {
      if (s.offline) this.truth.offline.push({ type: 'offline', deviceId: s.deviceId, from: iso(s.offline.from), to: iso(s.offline.to), mode: s.mode, bufferedSeqs: s.offline.bufferedSeqs, lostSeqs: s.offline.lostSeqs })
    }
    // When each sensor bin's real level reached its capacity, cycle by cycle between emptyings.
    for (const s of this.sensors) {
      const cuts = [this.startMs]
      // lastEmptied answers its earliest emptying for any earlier instant, which may lie after the
      // start (a simulation starting in the small hours of a collection day): stop there, not loop.
      for (let at = this.fill.lastEmptied(s.bin, this.endMs), prev = Infinity; at > this.startMs && at < prev; prev = at, at = this.fill.lastEmptied(s.bin, at - 1)) cuts.splice(1, 0, at)
      cuts.push(this.endMs)
      for (let k = 0; k + 1 < cuts.length; k++) {
        const full = this.fill.fullAt(s.bin, cuts[k]!, cuts[k + 1]!)
        if (full !== null) this.truth.binFull.push({ type: 'bin-full', deviceId: s.deviceId, binId: s.binId, at: iso(full) })
      }
    }
  }
}

export function createSimulation(city: City, opts: SimulationOptions = {}): Simulation {
  return new Simulation(city, opts)
}

const toMs = (v: Date | number | undefined) => (v === undefined ? undefined : typeof v === 'number' ? v : v.getTime())
