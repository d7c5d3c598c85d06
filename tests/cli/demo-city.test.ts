// The demo at any hour of any day. Regression: at Sunday 01:14 the demo clamped its round starts to
// 23:00 (`Math.min(startsAt, 23*60)`) while its simulation began two hours earlier, so every round was
// skipped and no lift came. Here, at three moments London time (the small hours of a Sunday, midday
// on a Wednesday, half an hour before midnight on a Friday): the crews' shifts lie within the day,
// one is out at the moment of the start, and the demo's own simulation (history quiet, then live)
// sends lifts in the minutes after the start, none of them after midnight.
import { describe, expect, test } from 'vitest'
import { DAY_ENDS, demoCity, demoShifts, describeShifts, estimatedMinutes, historyStart } from '../../cli/demo-city.ts'
import { createSimulation } from '../../simulators/model/simulation.ts'
import { londonDate, londonInstant, londonMinutes } from '../../simulators/time.ts'

const MOMENTS = [
  { name: 'Sunday 01:15', at: londonInstant('2026-12-06', 75) },
  { name: 'Wednesday 12:00', at: londonInstant('2026-12-09', 12 * 60) },
  { name: 'Friday 23:30', at: londonInstant('2026-12-11', 23 * 60 + 30) },
  { name: 'Sunday 00:20, the night the clocks go back', at: londonInstant('2026-10-25', 20) },
]

describe.each(MOMENTS)('a demo started $name', ({ at }) => {
  test('the shifts lie within the day, and a crew is out now', () => {
    const crews = [{ vehicleId: 'rcv-01', stops: 90 }, { vehicleId: 'rcv-02', stops: 85 }, { vehicleId: 'gdn-01', stops: 70 }, { vehicleId: 'food-01', stops: 51 }]
    const shifts = demoShifts(crews, at)
    const now = londonMinutes(at)
    for (const [i, s] of shifts.entries()) {
      expect(s.startsAt + estimatedMinutes(crews[i]!.stops)).toBeLessThanOrEqual(DAY_ENDS)
      expect(s.startsAt).toBeGreaterThanOrEqual(0)
      expect(s.endsAt).toBeGreaterThan(s.startsAt)
      expect(s.endsAt).toBeLessThanOrEqual(23 * 60 + 59)
    }
    expect(Math.min(...shifts.map((s) => s.startsAt))).toBeLessThanOrEqual(now)
    expect(describeShifts(shifts, at)).toMatch(/crews collect every day, starting between \d\d:\d\d and \d\d:\d\d/)
  })

  test('the history reaches back five to eight weeks, to a closed month', () => {
    const start = historyStart(at)
    expect(at - start).toBeGreaterThanOrEqual(35 * 86_400_000 - 3_600_000)
    expect(at - start).toBeLessThanOrEqual(56 * 86_400_000)
    expect(londonDate(start).slice(0, 7) < londonDate(at).slice(0, 7)).toBe(true)
  })

  test('lifts come within minutes of the start, all on the day', () => {
    const { city } = demoCity({ seed: 3, households: 1200, start: londonDate(at - 2 * 86_400_000), now: at })
    const sim = createSimulation(city, { start: at - 2 * 3_600_000, end: at + 45 * 60_000, history: { until: at, readingIntervalS: 4 * 3600 }, truthReadings: false })
    const lifts: number[] = []
    const positionsBefore: number[] = []
    for (const out of sim.outputs()) {
      if (out.type !== 'message') continue
      if (out.kind === 'lift') lifts.push(out.at)
      if (out.kind === 'position' && out.at < at) positionsBefore.push(out.at)
    }
    const after = lifts.filter((t) => t >= at)
    expect(after.length).toBeGreaterThan(0)
    expect(Math.min(...after) - at).toBeLessThan(60_000)
    for (const t of lifts) expect(londonDate(t)).toBe(londonDate(at))
    expect(positionsBefore).toEqual([]) // the quiet history sends no positions
  })
})
