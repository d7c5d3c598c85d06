// The simulation model on its own (no broker): deterministic event stream, messages that keep the
// device contract, and a ground truth that agrees with every message the devices send.
import { createHash } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { validateMessage, type MessageKind } from '../../core/contract/messages.ts'
import { isoWeekday } from '../../analysis/calendar/dates.ts'
import { generateCity } from '../../simulators/city/generate-city.ts'
import type { City } from '../../simulators/city/city.ts'
import { createSimulation, type SimOutput, type SimulationOptions } from '../../simulators/model/simulation.ts'
import { londonDate } from '../../simulators/time.ts'

const city = generateCity({ seed: 5, households: 3_000, start: '2026-03-02', sensorShare: 0.1 })

function run(c: City, opts: SimulationOptions = {}) {
  const sim = createSimulation(c, opts)
  const hash = createHash('sha256')
  const outputs: SimOutput[] = []
  for (const o of sim.outputs()) {
    hash.update(JSON.stringify(o))
    hash.update('\n')
    outputs.push(o)
  }
  return { sim, truth: sim.truth, outputs, hash: hash.digest('hex') }
}

const messages = (outputs: SimOutput[]) => outputs.filter((o): o is Extract<SimOutput, { type: 'message' }> => o.type === 'message')

describe('simulation', () => {
  const base = run(city, { days: 7 })

  test('the same seed gives the same event stream; another seed another', () => {
    const again = run(generateCity({ seed: 5, households: 3_000, start: '2026-03-02', sensorShare: 0.1 }), { days: 7 })
    expect(again.hash).toBe(base.hash)
    expect(again.outputs.length).toBe(base.outputs.length)
    expect(run(city, { days: 7, seed: 6 }).hash).not.toBe(base.hash)
  })

  test('a week of a 3,000-household city: lifts, positions, readings and reports', () => {
    const kinds = new Map<string, number>()
    for (const o of base.outputs) kinds.set(o.type === 'message' ? o.kind : o.type, (kinds.get(o.type === 'message' ? o.kind : o.type) ?? 0) + 1)
    // One residual-or-recycling lift per household a week, plus garden and food.
    expect(kinds.get('lift')).toBeGreaterThan(3_000)
    expect(kinds.get('position')).toBeGreaterThan(1_000)
    const sensors = city.devices.filter((d) => d.kind === 'bin').length
    expect(kinds.get('reading')).toBeGreaterThan(sensors * 7 * 24 * 0.9)
    expect(kinds.get('report') ?? 0).toBeGreaterThan(0)
  })

  test('outputs come in time order; each device numbers its messages 1, 2, 3 … with gaps only where messages were lost', () => {
    let last = -Infinity
    for (const o of base.outputs) {
      expect(o.at).toBeGreaterThanOrEqual(last)
      last = o.at
    }
    const seqs = new Map<string, number[]>()
    for (const m of messages(base.outputs)) {
      const list = seqs.get(m.deviceId) ?? []
      list.push(m.body.seq as number)
      seqs.set(m.deviceId, list)
    }
    const lost = new Map<string, Set<number>>()
    for (const o of base.truth.offline) lost.set(o.deviceId, new Set([...(lost.get(o.deviceId) ?? []), ...o.lostSeqs]))
    for (const [deviceId, list] of seqs) {
      const missing: number[] = []
      for (let i = 0, expectSeq = 1; i < list.length; i++, expectSeq++) {
        while (list[i]! > expectSeq) missing.push(expectSeq++)
        expect(list[i], `${deviceId} seq`).toBe(expectSeq)
      }
      expect(missing, deviceId).toEqual([...(lost.get(deviceId) ?? [])].filter((s) => s < list[list.length - 1]!))
    }
  })

  test('every message keeps the device contract; only readings held while offline carry an earlier time', () => {
    const buffered = new Set(base.truth.readings.filter((r) => r.delivery === 'buffered').map((r) => `${r.deviceId}#${r.seq}`))
    let late = 0
    for (const m of messages(base.outputs)) {
      const result = validateMessage(m.kind as MessageKind, m.body, m.at + 60_000)
      expect(result.ok, JSON.stringify({ m, result })).toBe(true)
      const ts = Date.parse(m.body.ts as string)
      if (ts !== m.at) {
        expect(buffered.has(`${m.deviceId}#${m.body.seq}`)).toBe(true)
        expect(ts).toBeLessThan(m.at)
        late++
      }
    }
    expect(late).toBe(buffered.size)
  })

  test('the ground truth agrees with every lift sent, and each outcome with its lifts', () => {
    const sent = new Map(messages(base.outputs).filter((m) => m.kind === 'lift').map((m) => [`${m.deviceId}#${m.body.seq}`, m]))
    let lifts = 0
    for (const c of base.truth.collections.values()) {
      for (const l of c.lifts) {
        const m = sent.get(`${l.deviceId}#${l.seq}`)
        expect(m, `lift ${l.deviceId}#${l.seq}`).toBeDefined()
        expect(m!.body).toMatchObject({ tag: c.tag, outcome: l.outcome, lat: l.lat, lon: l.lon })
        lifts++
      }
      const emptied = c.lifts.filter((l) => l.outcome === 'collected')
      switch (c.outcome) {
        case 'collected':
          expect(emptied).toHaveLength(1)
          expect(londonDate(Date.parse(emptied[0]!.ts))).toBe(c.dueDate)
          expect(emptied[0]!.visit).toBe('round')
          break
        case 'collected_late':
          expect(emptied.map((l) => l.visit)).toEqual(['late'])
          expect(c.lateAt! > c.dueDate).toBe(true)
          expect(['breakdown', 'unfinished']).toContain(c.missCause)
          break
        case 'rectified':
          expect(emptied.map((l) => l.visit)).toEqual(['return'])
          expect(c.firstReportAt! < c.rectifiedAt!).toBe(true)
          break
        case 'missed':
          expect(emptied).toHaveLength(0)
          expect(c.missCause).not.toBeNull()
          expect(c.presented).toBe(true)
          break
        case 'crew_exception':
          expect(emptied).toHaveLength(0)
          expect(c.exception).not.toBeNull()
          expect(c.lifts.map((l) => l.outcome)).toEqual([c.exception])
          break
        case 'not_presented':
          expect(c.presented).toBe(false)
          expect(emptied).toHaveLength(0)
          expect(c.lifts.map((l) => l.outcome)).toEqual(c.exception ? ['not_presented'] : [])
          break
      }
    }
    expect(lifts).toBe(sent.size)
    expect(base.truth.generated.lift).toBe(sent.size)
    const readings = base.truth.readings
    expect(base.truth.generated.reading).toBe(readings.length)
    expect(readings.filter((r) => r.delivery !== 'lost')).toHaveLength(messages(base.outputs).filter((m) => m.kind === 'reading').length)
  })

  test('a lift empties the bin: the sensor reads high before and low after', () => {
    const bySensor = new Map<string, { ts: number; fill: number }[]>()
    for (const r of base.truth.readings) {
      const list = bySensor.get(r.binId) ?? []
      list.push({ ts: Date.parse(r.ts), fill: r.trueFillPct })
      bySensor.set(r.binId, list)
    }
    let checked = 0
    for (const c of base.truth.collections.values()) {
      const list = bySensor.get(c.binId)
      const lift = c.lifts.find((l) => l.outcome === 'collected')
      if (!list || !lift) continue
      const at = Date.parse(lift.ts)
      const before = list.filter((r) => r.ts < at).at(-1)
      const after = list.find((r) => r.ts > at)
      if (!before || !after) continue
      expect(after.fill).toBeLessThan(before.fill)
      expect(after.fill).toBeLessThan(10)
      expect(lift.weightKg!).toBeGreaterThan(0)
      checked++
    }
    expect(checked).toBeGreaterThan(100)
  })

  test('residents report: genuine reports are real misses within the window; the contractor goes back', () => {
    const reports = base.truth.reports
    expect(reports.length).toBeGreaterThan(0)
    for (const r of reports) {
      expect(r.genuine).toBe(r.reason === 'genuine')
      const c = r.scheduledDate ? base.truth.collection(r.uprn, r.stream, r.scheduledDate) : undefined
      if (r.reason === 'not_scheduled') { expect(c).toBeUndefined(); continue }
      expect(c).toBeDefined()
      if (r.genuine) {
        expect(c!.presented).toBe(true)
        expect(c!.missCause).not.toBeNull()
        expect(r.at >= r.windowOpensAt! && r.at <= r.windowClosesAt!).toBe(true)
        expect(c!.lifts.some((l) => l.outcome === 'collected' && l.ts <= r.at)).toBe(false)
      }
      if (r.reason === 'collected') expect(c!.lifts.some((l) => l.outcome === 'collected' && l.ts <= r.at)).toBe(true)
      if (r.reason === 'not_presented') expect(c!.presented).toBe(false)
      if (r.reason === 'too_early') expect(r.at < r.windowOpensAt! || r.outcomeAtReport === 'pending').toBe(true)
    }
  })

  test('a crew with a high miss rate misses far more: behaviour per round', () => {
    const bad = run(city, { days: 7, behaviour: { crewByRound: { 'rec-mon-1': { missRate: 0.2 }, 'res-mon-1': { missRate: 0.2 } } } })
    const rate = (pred: (roundId: string) => boolean) => {
      const cs = [...bad.truth.collections.values()].filter((c) => pred(c.roundId) && c.presented)
      return cs.filter((c) => c.missCause === 'random').length / cs.length
    }
    expect(rate((id) => id.endsWith('-mon-1') && (id.startsWith('res') || id.startsWith('rec')))).toBeGreaterThan(0.15)
    expect(rate((id) => !id.endsWith('-mon-1'))).toBeLessThan(0.01)
    // Misses that were reported are put right by the spare vehicle.
    const rectified = [...bad.truth.collections.values()].filter((c) => c.outcome === 'rectified')
    expect(rectified.length).toBeGreaterThan(10)
  })

  test('bank holidays move collections: Easter Monday\'s round runs on Tuesday, Friday\'s on Saturday', () => {
    const easter = generateCity({ seed: 5, households: 3_000, start: '2026-04-06', sensorShare: 0 })
    const { truth } = run(easter, { days: 7 })
    const monday = [...truth.collections.values()].filter((c) => c.scheduledDate === '2026-04-06')
    expect(monday.length).toBeGreaterThan(0)
    expect(new Set(monday.map((c) => c.dueDate))).toEqual(new Set(['2026-04-07']))
    for (const c of monday) for (const l of c.lifts.filter((x) => x.visit === 'round')) expect(londonDate(Date.parse(l.ts))).toBe('2026-04-07')
    const friday = [...truth.collections.values()].filter((c) => c.scheduledDate === '2026-04-10')
    expect(new Set(friday.map((c) => isoWeekday(c.dueDate)))).toEqual(new Set([6]))
  })

  test('offline sensors: buffering ones send late with no gap, skipping ones send less, losing ones leave gaps', () => {
    const offline = (mode: 'buffer' | 'skip' | 'lose') => run(city, { days: 3, behaviour: { sensors: { offlineSpellsPerWeek: 5, offlineMeanHours: 6, offlineModes: { buffer: mode === 'buffer' ? 1 : 0, skip: mode === 'skip' ? 1 : 0, lose: mode === 'lose' ? 1 : 0 } } } })
    const buffer = offline('buffer').truth
    expect(buffer.offline.length).toBeGreaterThan(10)
    expect(buffer.lostSeqs).toBe(0)
    expect(buffer.offline.every((o) => o.mode === 'buffer' && o.lostSeqs.length === 0)).toBe(true)
    expect(buffer.readings.filter((r) => r.delivery === 'buffered').length).toBeGreaterThan(0)
    const skip = offline('skip').truth
    expect(skip.lostSeqs).toBe(0)
    expect(skip.readings.every((r) => r.delivery === 'sent')).toBe(true)
    expect(skip.readings.length).toBeLessThan(buffer.readings.length)
    const lose = offline('lose').truth
    expect(lose.lostSeqs).toBeGreaterThan(0)
    expect(lose.lostSeqs).toBe(lose.offline.reduce((n, o) => n + o.lostSeqs.length, 0))
  })

  test('bin fires: burning readings, hot, and the bin empty afterwards', () => {
    const { truth, outputs } = run(city, { days: 2, behaviour: { sensors: { fireRatePerDay: 0.05, offlineSpellsPerWeek: 0 } } })
    expect(truth.fires.length).toBeGreaterThan(0)
    const burning = messages(outputs).filter((m) => m.kind === 'reading' && m.body.status === 'burning')
    expect(burning.length).toBeGreaterThanOrEqual(truth.fires.length)
    expect(burning.every((m) => (m.body.tempC as number) > 60)).toBe(true)
    // The contents burn: the next reading finds the bin all but empty (unless the household has
    // put a bag in since).
    const next = truth.fires.map((f) => truth.readings.find((r) => r.deviceId === f.deviceId && r.ts > f.endAt)).filter((r) => r !== undefined)
    expect(next.length).toBeGreaterThan(0)
    expect(next.filter((r) => r.trueFillPct < 5).length / next.length).toBeGreaterThan(0.8)
  })
})

describe('faulty sensors (behaviour.sensors.faultyShare)', () => {
  const small = generateCity({ seed: 5, households: 600, start: '2026-03-02', sensorShare: 0.5 })
  const impossible = (outputs: SimOutput[]) => messages(outputs).filter((m) => m.kind === 'reading' && (m.body.fillPct as number) > 100)

  test('off by default: every reading keeps the contract, and the event stream is the one it was', () => {
    expect(impossible(run(small, { days: 2 }).outputs)).toHaveLength(0)
    expect(run(small, { days: 2, behaviour: { sensors: { faultyShare: 0 } } }).hash).toBe(run(small, { days: 2 }).hash)
  })

  test('on: a few sensors now and then report an impossible fill (120–160 %), which the device contract refuses', () => {
    const { outputs } = run(small, { days: 2, behaviour: { sensors: { faultyShare: 0.05, faultyReadingRate: 0.1 } } })
    const bad = impossible(outputs)
    const readings = messages(outputs).filter((m) => m.kind === 'reading').length
    expect(bad.length).toBeGreaterThan(0)
    expect(bad.length / readings).toBeLessThan(0.02)
    const sensors = small.devices.filter((d) => d.kind === 'bin').length
    expect(new Set(bad.map((m) => m.deviceId)).size).toBeLessThan(sensors * 0.15)
    for (const m of bad) {
      expect(m.body.fillPct).toBeGreaterThanOrEqual(120)
      expect(m.body.fillPct).toBeLessThanOrEqual(160)
      expect(validateMessage('reading', m.body, m.at + 60_000).ok).toBe(false)
    }
  })
})
