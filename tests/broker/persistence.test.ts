import { expect, test } from 'vitest'
import { queuedAcrossRestart } from '../helpers/broker-restart.ts'

test('with durable persistence (level), a session and its queue survive a broker restart', async () => {
  const r = await queuedAcrossRestart('level')
  expect(r.deliveredAfterRestart).toEqual(Array.from({ length: r.published }, (_, i) => String(i)))
})

test('with memory persistence, they do not (the reason to choose level or redis in production)', async () => {
  const r = await queuedAcrossRestart('memory')
  expect(r.deliveredAfterRestart).toEqual([])
})
