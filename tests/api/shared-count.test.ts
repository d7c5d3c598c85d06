// The shared count behind the map summary and the device summary: one count for every caller,
// counted again in the background when stale, at once after a registry change.
import { describe, expect, it } from 'vitest'
import { sharedCount } from '../../api/shared-count.ts'

function counter() {
  let n = 0
  const pending: Array<(v: number) => void> = []
  return {
    calls: () => n,
    count: () => { n++; return new Promise<number>((resolve) => pending.push(resolve)) },
    finish: (v: number) => pending.shift()!(v),
    waiting: () => pending.length,
  }
}
const tick = () => new Promise((r) => setImmediate(r))

describe('sharedCount', () => {
  it('counts once for callers arriving together, and answers the held count while it is fresh', async () => {
    const c = counter()
    let clock = 0
    const s = sharedCount(c.count, { freshMs: 30_000, onError: () => {}, now: () => clock })
    const a = s.get()
    const b = s.get()
    expect(c.calls()).toBe(1)
    c.finish(7)
    expect((await a).value).toBe(7)
    expect((await b).value).toBe(7)
    clock = 29_000
    expect((await s.get()).value).toBe(7)
    expect(c.calls()).toBe(1)
  })

  it('answers a stale count at once and counts again in the background', async () => {
    const c = counter()
    let clock = 0
    const s = sharedCount(c.count, { freshMs: 30_000, onError: () => {}, now: () => clock })
    const first = s.get()
    c.finish(1)
    await first
    clock = 31_000
    const stale = await s.get()
    expect(stale.value).toBe(1)
    expect(stale.at.getTime()).toBe(0)
    expect(c.calls()).toBe(2)
    c.finish(2)
    await tick()
    const fresh = await s.get()
    expect(fresh.value).toBe(2)
    expect(fresh.at.getTime()).toBe(31_000)
  })

  it('after invalidate() the next caller waits for a new count, and a count started before it is not kept', async () => {
    const c = counter()
    let clock = 0
    const s = sharedCount(c.count, { freshMs: 30_000, onError: () => {}, now: () => clock })
    const first = s.get()
    c.finish(1)
    await first
    clock = 40_000
    await s.get() // stale: a background count starts (it will answer 2, from before the change)
    expect(c.waiting()).toBe(1)
    s.invalidate()
    const after = s.get()
    expect(c.calls()).toBe(3)
    c.finish(2) // the count from before the change ends first
    c.finish(3)
    expect((await after).value).toBe(3)
    expect((await s.get()).value).toBe(3)
  })

  it('a failed background count is reported and the held count still answered', async () => {
    let fail = false
    let clock = 0
    const errors: unknown[] = []
    const s = sharedCount(async () => { if (fail) throw new Error('database away'); return 5 }, { freshMs: 10, onError: (e) => errors.push(e), now: () => clock })
    expect((await s.get()).value).toBe(5)
    fail = true
    clock = 100
    expect((await s.get()).value).toBe(5)
    await tick()
    expect(errors).toHaveLength(1)
  })
})
