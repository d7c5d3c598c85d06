// Regression: SIGTERM of `kerbside start` in a burst ended in "Maximum call stack size exceeded"
// (aedes' publish path): mqemitter drains a long queue by recursion when deliveries complete
// synchronously. The guarded emitter delivers every queued message, in order, without overflowing.
import { createRequire } from 'node:module'
import { expect, test } from 'vitest'
import { createBrokerEmitter, guardDepth } from '../../broker/emitter.ts'

const require = createRequire(import.meta.url)
type Mq = { on(topic: string, fn: (msg: { topic: string; n: number }, cb: () => void) => void): void; emit(msg: { topic: string; n: number }, cb?: () => void): void; current: number; _do: (m: unknown, c: unknown) => Mq }
const QUEUED = 20_000

/** One slow delivery holds the only slot while the rest queue; then every delivery completes at once. */
function drain(mq: Mq): Promise<number[]> {
  const seen: number[] = []
  let hold: (() => void) | null = null
  mq.on('t', (msg, cb) => {
    seen.push(msg.n)
    if (msg.n === 0) hold = cb
    else cb()
  })
  for (let n = 0; n < QUEUED; n++) mq.emit({ topic: 't', n })
  return new Promise((resolve, reject) => {
    mq.emit({ topic: 't', n: QUEUED }, () => resolve(seen))
    try { hold!() } catch (err) { reject(err) }
  })
}

test('without the guard, a long queue that completes synchronously overflows the stack', async () => {
  const mqemitter = require('mqemitter') as (o: { concurrency: number }) => Mq
  await expect(drain(mqemitter({ concurrency: 1 }))).rejects.toThrow(/Maximum call stack/)
})

test('the broker emitter delivers every queued message in order', async () => {
  const mqemitter = require('mqemitter') as (o: { concurrency: number }) => Mq
  const seen = await drain(guardDepth(mqemitter({ concurrency: 1 })))
  expect(seen.length).toBe(QUEUED + 1)
  expect(seen.every((n, i) => n === i)).toBe(true)
  expect(createBrokerEmitter()).toBeTruthy()
})
