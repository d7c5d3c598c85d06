// THE webhook test of issue 5: a real local HTTP receiver is down (nothing listening), then answers
// 503, then comes back; meanwhile the worker is stopped in the middle of a delivery and a new one
// starts. Every event arrives, none is lost, every signature verifies, and the duplicates the outage
// and the restart cause carry the same Idempotency-Key, so the receiver counts exactly one per event.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { closeReport, createReport } from '../../../storage/reports.ts'
import { emitMissedCollectionConfirmed, listCrmEvents } from '../../../storage/crm-outbox.ts'
import { endpointStats } from '../../../storage/crm-deliveries.ts'
import { postRewards } from '../../../analysis/rewards/ledger.ts'
import { endpointIdOf, startCrmWebhooks, type WebhookWorker } from '../../../analysis/crm-feed/webhook-worker.ts'
import { seedTown, U } from '../rewards/fixture.ts'
import { waitFor } from '../../helpers/stack.ts'
import { createReceiver, type Receiver } from '../../helpers/webhook-receiver.ts'

const SECRET = 'test-webhook-secret-0123456789abcdef'
let db: Database
let receiver: Receiver
const registry = new Registry()

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedTown(db)
  receiver = await createReceiver(SECRET)
})
afterAll(async () => {
  await receiver?.close()
  await db?.close()
})

// Fast backoff so the test does not wait; the policy is the same as in production.
const startWorker = (): WebhookWorker => startCrmWebhooks({
  db, logger: silentLogger, registry, urls: [`${receiver.url}?token=do-not-log`], secrets: [SECRET],
  retry: { baseDelayMs: 10, maxDelayMs: 100, maxAttempts: 1000 }, timeoutMs: 5000, pollMs: 10, batchSize: 5, concurrency: 3,
})

/** Events from each producer: reward postings, missed collections, a closed report. */
async function produceEvents(from: number, n: number): Promise<void> {
  await db.transaction(async (tx) => {
    for (let i = from; i < from + n; i++) {
      await emitMissedCollectionConfirmed(tx, { collectionId: 9000 + i, uprn: U.B, stream: 'residual', dueDate: '2026-03-06', roundId: 'R-1', contractId: 'K1', missedAt: new Date('2026-03-06T16:30:00Z') })
    }
  })
  const { report } = await createReport(db, { serviceCode: 'missed_residual', stream: 'residual', uprn: U.C, locatedBy: 'uprn', source: `test-${from}` })
  await closeReport(db, report.id, 'Collected on the return visit.')
}

const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.reduce((s, v) => s + v.value, 0)

describe('webhooks to a CRM that goes down', () => {
  test('every event arrives exactly once by key, through an outage, 503s and a worker restart', async () => {
    await postRewards(db, { from: '2026-01', now: new Date('2026-04-10T09:00:00Z') })
    await produceEvents(0, 10)
    const endpointId = endpointIdOf(`${receiver.url}?token=do-not-log`)

    // 1. Down: nothing listens. The worker keeps trying with backoff, and records why.
    let worker = startWorker()
    await waitFor(async () => ((await endpointStats(db))[0]?.consecutiveFailures ?? 0) >= 3, 20_000, 'failed attempts while the CRM is down')
    const { rows: [failing] } = await db.query<{ attempts: number; lastError: string; nextAttemptAt: Date }>(
      `SELECT attempts, last_error AS "lastError", next_attempt_at AS "nextAttemptAt" FROM crm_webhook_deliveries WHERE attempts > 0 ORDER BY attempts DESC LIMIT 1`)
    expect(failing!.lastError).toMatch(/ECONNREFUSED/)
    expect(failing!.nextAttemptAt).toBeInstanceOf(Date)
    // New events written during the outage queue up behind.
    await produceEvents(10, 5)

    // 2. Back, but answering 503.
    receiver.answer = () => 503
    await receiver.listen()
    await waitFor(() => receiver.received.filter((r) => r.answered === 503).length >= 3, 20_000, '503 answers')

    // 3. Answering again; the sixth request of this phase is taken and never answered, and the
    //    worker is stopped while it waits (a crash after the CRM got the event, before the ack).
    const phaseStart = receiver.received.length
    receiver.answer = (_r, n) => (n === phaseStart + 5 ? 'hold' : 200)
    await receiver.held()
    await worker.stop()
    const heldKey = receiver.received.find((r) => r.answered === 'held')!.idempotencyKey
    expect(receiver.acknowledged.has(heldKey)).toBe(false)

    // 4. A new worker carries on from the database; more events arrive meanwhile.
    receiver.answer = () => 200
    worker = startWorker()
    await produceEvents(15, 5)
    const all = await listCrmEvents(db, { after: 0, limit: 10_000 })
    await waitFor(async () => (await endpointStats(db))[0]!.undelivered === 0, 30_000, 'every event delivered')
    await worker.stop()

    // 8 reward postings, 20 missed collections, 3 closed reports.
    expect(all.map((e) => e.type).sort()).toEqual([...Array(3).fill('report.closed'), ...Array(20).fill('collection.missed_confirmed'), ...Array(8).fill('reward.points_posted')].sort())
    const keys = receiver.distinctKeys()
    expect(keys.size).toBe(all.length)
    expect([...keys].sort()).toEqual(all.map((e) => e.idempotencyKey).sort())
    expect(receiver.acknowledged.size).toBe(all.length)
    expect(receiver.received.every((r) => r.signatureValid)).toBe(true)
    // Duplicates (each 503, the held request) are the same event, recognisable by key.
    expect(receiver.received.length).toBeGreaterThan(all.length)
    for (const r of receiver.received) expect(JSON.parse(r.body)).toEqual(all.find((e) => e.idempotencyKey === r.idempotencyKey))
    expect(receiver.received.filter((r) => r.idempotencyKey === heldKey).length).toBeGreaterThanOrEqual(2)

    const [stats] = await endpointStats(db)
    expect(stats).toMatchObject({ endpointId, url: receiver.url, undelivered: 0, oldestUndeliveredAt: null, delivered: all.length, dead: 0, consecutiveFailures: 0, pausedUntil: null })
    expect(stats!.url).not.toContain('do-not-log')
    expect(await metric('kerbside_crm_webhooks_delivered_total')).toBe(all.length)
    expect(await metric('kerbside_crm_webhook_dead_letters_total')).toBe(0)
    const failures = (await registry.getSingleMetric('kerbside_crm_webhook_failed_attempts_total')!.get()).values
    expect(failures.find((v) => v.labels.reason === 'network')!.value).toBeGreaterThanOrEqual(3)
    expect(failures.find((v) => v.labels.reason === 'http_5xx')!.value).toBeGreaterThanOrEqual(3)
    expect(await metric('kerbside_crm_outbox_depth')).toBe(0)
    expect(await metric('kerbside_crm_outbox_oldest_undelivered_seconds')).toBe(0)
  })
})
