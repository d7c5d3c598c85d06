// Simulated time: a start instant and a speed factor. At 3600× one simulated hour passes in each real
// second; 'max' runs as fast as the work allows (tests, benchmarks).
//
// Ingest refuses device timestamps more than ten minutes ahead of its own clock, so a fast clock
// must never overtake real time: `capAtRealTime` replays the past quickly and then carries on at
// real time (the demo starts a couple of hours back and catches up).

export type Speed = number | 'max'

export interface ClockOptions {
  /** Simulated instant at which the clock starts. */
  start: Date | number
  /** Simulated milliseconds per real millisecond, or 'max'. */
  speed: Speed
  /** Never run ahead of the real clock (waits instead). */
  capAtRealTime?: boolean
  /** Real time source, for tests of the clock itself. */
  realNow?: () => number
}

export class ClockError extends Error {
  override name = 'KERBSIDE_ERR_SIM_CLOCK'
}

export interface SimClock {
  readonly speed: Speed
  /** The simulated instant now (ms since the epoch). */
  now(): number
  /**
   * Resolve when simulated time reaches `simMs`. With speed 'max' simulated time jumps there at
   * once; the promise still yields to the event loop now and then, so that sockets keep flowing.
   */
  waitUntil(simMs: number): Promise<void>
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

export function createClock(opts: ClockOptions): SimClock {
  const realNow = opts.realNow ?? Date.now
  const startSim = typeof opts.start === 'number' ? opts.start : opts.start.getTime()
  if (!Number.isFinite(startSim)) throw new ClockError('the clock needs a valid start instant')
  if (opts.speed !== 'max' && !(opts.speed > 0)) throw new ClockError(`speed must be a positive number or 'max', not ${opts.speed}`)
  const startReal = realNow()

  if (opts.speed === 'max') {
    let current = startSim
    let calls = 0
    return {
      speed: 'max',
      now: () => current,
      async waitUntil(simMs) {
        if (opts.capAtRealTime && simMs > realNow()) await sleep(simMs - realNow())
        if (simMs > current) current = simMs
        if (++calls % 256 === 0) await yieldToLoop()
      },
    }
  }

  const speed = opts.speed
  const scaled = () => startSim + (realNow() - startReal) * speed
  // Once capped, the clock follows real time: the simulated present is the real present.
  const now = () => (opts.capAtRealTime ? Math.min(scaled(), realNow()) : scaled())
  return {
    speed,
    now,
    async waitUntil(simMs) {
      for (;;) {
        const ahead = simMs - now()
        if (ahead <= 0) return
        const capped = opts.capAtRealTime && scaled() >= realNow()
        await sleep(Math.max(1, Math.min(1000, capped ? ahead : ahead / speed)))
      }
    },
  }
}
