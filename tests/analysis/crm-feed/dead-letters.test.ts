// What a CRM's refusals do: a 4xx other than 408/429 is dead-lettered at once, 408 and 429 are
// retried, a delivery that keeps failing is dead-lettered after the last attempt, and requeued dead
// letters go out again. An endpoint configured later starts with the events written after it.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { emitMissedCollectionConfirmed } from '../../../storage/crm-outbox.ts'
import { endpointStats, enqueueNewEvents, listDeadLetters, registerEndpoint, requeueDeadLetters } from '../../../storage/crm-deliveries.ts'
import { startCrmWebhooks } from '../../../analysis/crm-feed/webhook-worker.ts'
import { waitFor } from '../../helpers/stack.ts'
import { createReceiver, type Receiver } from '../../helpers/webhook-receiver.ts'

const SECRET = 'dead-letter-test-secret-0123456789ab'
const UPRN = 100000000001
let db: Database
let receiver: Receiver
const registry = new Registry()

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await db.query(`INSERT INTO households (uprn, address, ward) VALUES ($1, '1 Test Street', 'Central')`, [UPRN])
  receiver = await createReceiver(SECRET)
  await receiver.listen()
})
afterAll(async () => {
  await receiver?.close()
  await db?.close()
})

const missed = (collectionId: number) => db.transaction((tx) => emitMissedCollectionConfirmed(tx, {
  collectionId, uprn: UPRN, stream: 'residual', dueDate: '2026-03-02', roundId: 'R', contractId: 'K', missedAt: null,
}))
const worker = (maxAttempts: number) => startCrmWebhooks({
  db, logger: silentLogger, registry, urls: [receiver.url], secrets: [SECRET], retry: { baseDelayMs: 5, maxDelayMs: 50, maxAttempts }, pollMs: 10,
})
const settled = async () => (await endpointStats(db))[0]!.undelivered === 0

test('refusals, throttling, giving up, and a requeue', async () => {
  for (const id of [1, 2, 3, 4, 5]) await missed(id)
  const tries = new Map<string, number>()
  receiver.answer = (r) => {
    const n = (tries.get(r.idempotencyKey) ?? 0) + 1
    tries.set(r.idempotencyKey, n)
    if (r.idempotencyKey === 'missed-collection:2') return 422                    // refused: dead at once
    if (r.idempotencyKey === 'missed-collection:3') return n === 1 ? 429 : 200    // throttled, then fine
    if (r.idempotencyKey === 'missed-collection:4') return n === 1 ? 408 : 200    // timed out, then fine
    if (r.idempotencyKey === 'missed-collection:5') return 500                    // broken for good
    return 200
  }
  const w = worker(3)
  await waitFor(settled, 20_000, 'every delivery settled')
  await w.stop()

  expect(Object.fromEntries(tries)).toEqual({ 'missed-collection:1': 1, 'missed-collection:2': 1, 'missed-collection:3': 2, 'missed-collection:4': 2, 'missed-collection:5': 3 })
  const dead = await listDeadLetters(db, { limit: 10 })
  expect(dead.map((d) => [d.idempotencyKey, d.attempts, d.lastStatusCode])).toEqual([['missed-collection:2', 1, 422], ['missed-collection:5', 3, 500]])
  expect(dead[0]!.lastError).toMatch(/^refused by the CRM: HTTP 422/)
  expect(dead[1]!.lastError).toMatch(/^gave up after 3 attempts: HTTP 500/)
  expect((await endpointStats(db))[0]).toMatchObject({ delivered: 3, dead: 2, undelivered: 0 })
  const deadMetric = (await registry.getSingleMetric('kerbside_crm_webhook_dead_letters_total')!.get()).values[0]!.value
  expect(deadMetric).toBe(2)

  // The CRM fixed its side: requeue one endpoint's dead letters.
  receiver.answer = () => 200
  expect(await requeueDeadLetters(db, { eventIds: [2, 5] })).toBe(2)
  const again = worker(3)
  await waitFor(settled, 20_000, 'requeued deliveries settled')
  await again.stop()
  expect((await endpointStats(db))[0]).toMatchObject({ delivered: 5, dead: 0 })
  expect(receiver.acknowledged.size).toBe(5)
})

test('an endpoint configured later starts with the events written after it', async () => {
  const later = await registerEndpoint(db, 'aaaaaaaaaaaaaaaa', 'https://crm.example.gov.uk/second')
  expect(later.enqueuedThrough).toBe(5)
  await missed(6)
  expect(await enqueueNewEvents(db, 'aaaaaaaaaaaaaaaa', 100)).toBe(1)
  expect((await endpointStats(db, ['aaaaaaaaaaaaaaaa']))[0]).toMatchObject({ undelivered: 1, url: 'https://crm.example.gov.uk/second' })
})
