// Simulated time, checked against an injected real clock (no sleeping, no timing assertions).
import { describe, expect, test } from 'vitest'
import { ClockError, createClock } from '../../simulators/clock.ts'

const START = Date.parse('2026-03-02T07:00:00Z')

describe('simulated clock', () => {
  test('at 3600× one simulated hour passes each real second', () => {
    let real = 1_000_000
    const clock = createClock({ start: START, speed: 3600, realNow: () => real })
    expect(clock.now()).toBe(START)
    real += 1000
    expect(clock.now()).toBe(START + 3_600_000)
    real += 250
    expect(clock.now()).toBe(START + 4_500_000)
  })

  test('capped at real time, a fast clock catches up with the present and then follows it', () => {
    let real = START + 2 * 3_600_000 // the simulation starts two hours back
    const clock = createClock({ start: START, speed: 60, capAtRealTime: true, realNow: () => real })
    real += 60_000 // a real minute: an hour simulated, still behind
    expect(clock.now()).toBe(START + 3_600_000)
    real += 120_000 // two more: would be an hour ahead, held at the real present
    expect(clock.now()).toBe(real)
    real += 5_000
    expect(clock.now()).toBe(real)
  })

  test("'max' jumps to each event at once and never goes back", async () => {
    const clock = createClock({ start: START, speed: 'max' })
    await clock.waitUntil(START + 86_400_000)
    expect(clock.now()).toBe(START + 86_400_000)
    await clock.waitUntil(START)
    expect(clock.now()).toBe(START + 86_400_000)
  })

  test('a fast clock resolves waits for instants already passed', async () => {
    let real = 0
    const clock = createClock({ start: START, speed: 3600, realNow: () => real })
    real = 10_000
    await clock.waitUntil(START + 3_600_000) // passed ten hours ago in simulated time
    expect(clock.now()).toBeGreaterThanOrEqual(START + 3_600_000)
  })

  test('invalid speeds and starts are refused', () => {
    expect(() => createClock({ start: START, speed: 0 })).toThrow(ClockError)
    expect(() => createClock({ start: Number.NaN, speed: 1 })).toThrow(ClockError)
  })
})
