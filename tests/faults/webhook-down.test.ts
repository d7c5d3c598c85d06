// The council's CRM is down for a long outage while events keep being written. The webhook
// receiver is a real HTTP server (tests/helpers/webhook-receiver.ts) that checks every signature;
// the worker is the real one (analysis/crm-feed) on a real PostgreSQL database. When the CRM goes
// down it has just taken a request it will never answer (the event was received, not
// acknowledged). Every event must arrive and be acknowledged; the requests sent again carry the
// same Idempotency-Key and body, so the CRM recognises them; no event is acknowledged twice.
//
// The outage is compressed but real: nothing listens on the port for OUTAGE_MS and every attempt
// meets a refused connection. In production the retry policy waits 30 s, 1 min, 2 min … up to 6 h
// between probes (analysis/crm-feed/retry-policy.ts), so "down for hours" means about a dozen probes.
// Here the same policy runs with a 500 ms base and a 4 s cap, so a 40 s outage makes the worker
// go through the same states — doubling backoff, the cap, one probe at a time while the backlog
// grows, then the burst that drains it — and the whole test takes about a minute.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startCrmWebhooks, type WebhookWorker } from '../../analysis/crm-feed/webhook-worker.ts'
import { silentLogger } from '../../core/log.ts'
import { endpointStats } from '../../storage/crm-deliveries.ts'
import { emitMissedCollectionConfirmed, listCrmEvents } from '../../storage/crm-outbox.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'
import { waitFor } from '../helpers/stack.ts'
import { createReceiver, type Receiver } from '../helpers/webhook-receiver.ts'
import { report } from './harness.ts'

const SECRET = 'fault-suite-webhook-secret-0123456789'
const OUTAGE_MS = 40_000
let pgdb: TestDatabase
let db: Database
let receiver: Receiver
let worker: WebhookWorker | undefined
const registry = new Registry()

beforeAll(async () => {
  pgdb = await createTestDatabase()
  db = await openDatabase({ url: pgdb.url, logger: silentLogger })
  receiver = await createReceiver(SECRET)
  await receiver.listen()
})
afterAll(async () => {
  await worker?.stop()
  await receiver?.close()
  await db?.close()
  await pgdb?.drop()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const failedAttempts = async (reason: string) =>
  (await registry.getSingleMetric('kerbside_crm_webhook_failed_attempts_total')!.get()).values.filter((v) => v.labels.reason === reason).reduce((s, v) => s + v.value, 0)

test('the CRM receiver down for a long outage: every event arrives, none lost, resends recognisable by key', async () => {
  worker = startCrmWebhooks({
    db, logger: silentLogger, registry, urls: [receiver.url], secrets: [SECRET],
    retry: { baseDelayMs: 500, maxDelayMs: 4000, maxAttempts: 1000 }, timeoutMs: 5000, pollMs: 100, batchSize: 20, concurrency: 4,
  })

  // A steady stream of events, as the outcomes job confirms misses through the day.
  let produced = 0
  let producing = true
  const producer = (async () => {
    while (producing) {
      const n = 1 + (produced % 3)
      await db.transaction(async (tx) => {
        for (let k = 0; k < n; k++, produced++) {
          await emitMissedCollectionConfirmed(tx, { collectionId: 50_000 + produced, uprn: 100_000_000_000 + (produced % 500), stream: 'residual', dueDate: '2026-03-06', roundId: 'R-1', contractId: 'K1', missedAt: new Date('2026-03-06T16:30:00Z') })
        }
      })
      await sleep(150)
    }
  })()

  // 1. Up: deliveries flow.
  await waitFor(() => receiver.acknowledged.size >= 30, 30_000, 'deliveries while the CRM is up')

  // 2. The CRM takes one more request and goes down before answering it, then stays down.
  let faults = 0
  receiver.answer = () => 'hold'
  await receiver.held()
  const heldKey = receiver.received.find((r) => r.answered === 'held')!.idempotencyKey
  await receiver.close()
  faults++
  const acknowledgedBeforeOutage = receiver.acknowledged.size
  const networkFailuresBefore = await failedAttempts('network')
  await sleep(OUTAGE_MS)
  const probes = (await failedAttempts('network')) - networkFailuresBefore
  const [during] = await endpointStats(db)
  expect(receiver.acknowledged.size).toBe(acknowledgedBeforeOutage)
  expect(during!.consecutiveFailures).toBeGreaterThanOrEqual(3)
  // The worker probes one event at a time while the endpoint fails: far fewer attempts than events waiting.
  expect(during!.undelivered).toBeGreaterThan(probes)

  // 3. Back up; the producer stops a little later and everything drains.
  receiver.answer = () => 200
  await receiver.listen()
  await sleep(2000)
  producing = false
  await producer
  await waitFor(async () => (await endpointStats(db))[0]!.undelivered === 0, 120_000, 'the backlog delivered')

  const events = await listCrmEvents(db, { after: 0, limit: 100_000 })
  expect(events.length).toBe(produced)
  const keys = new Set(events.map((e) => e.idempotencyKey))
  const lost = [...keys].filter((k) => !receiver.acknowledged.has(k)).length
  const acks = new Map<string, number>()
  for (const r of receiver.received) if (typeof r.answered === 'number' && r.answered < 300) acks.set(r.idempotencyKey, (acks.get(r.idempotencyKey) ?? 0) + 1)
  const ackedTwice = [...acks.values()].filter((n) => n > 1).length
  const resent = receiver.received.length - receiver.distinctKeys().size
  report('CRM webhook receiver down', {
    faults, published: events.length, stored: receiver.acknowledged.size, lost, duplicates: ackedTwice,
    extra: `outage ${OUTAGE_MS / 1000} s, failed probes during it ${probes}, requests ${receiver.received.length}, resent with the same key ${resent}`,
  })

  expect(lost).toBe(0)
  expect(ackedTwice).toBe(0)
  expect(receiver.acknowledged.size).toBe(events.length)
  expect([...receiver.distinctKeys()].every((k) => keys.has(k))).toBe(true)
  expect(receiver.received.every((r) => r.signatureValid)).toBe(true)
  // The request the CRM took and never answered was sent again, the same event under the same key.
  const heldRequests = receiver.received.filter((r) => r.idempotencyKey === heldKey)
  expect(heldRequests.length).toBeGreaterThanOrEqual(2)
  expect(new Set(heldRequests.map((r) => r.body)).size).toBe(1)
  expect(resent).toBeGreaterThanOrEqual(1)
  const [after] = await endpointStats(db)
  expect(after).toMatchObject({ undelivered: 0, dead: 0, delivered: events.length, consecutiveFailures: 0 })
  expect(probes).toBeGreaterThanOrEqual(3)
})
