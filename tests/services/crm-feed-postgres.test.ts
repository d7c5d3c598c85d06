// The CRM feed and the reward ledger on a PostgreSQL server (the pg adapter): outbox ids become
// visible in order even when writers commit out of order, two API instances' workers never deliver
// an event twice, and the reward figures equal the embedded database's.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { emitMissedCollectionConfirmed, listCrmEvents } from '../../storage/crm-outbox.ts'
import { endpointStats } from '../../storage/crm-deliveries.ts'
import { startCrmWebhooks } from '../../analysis/crm-feed/webhook-worker.ts'
import { postRewards, rewardBalance } from '../../analysis/rewards/ledger.ts'
import { seedTown, U } from '../analysis/rewards/fixture.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'
import { waitFor } from '../helpers/stack.ts'
import { createReceiver, type Receiver } from '../helpers/webhook-receiver.ts'

const SECRET = 'postgres-webhook-secret-0123456789ab'
let pgdb: TestDatabase
let db: Database
let other: Database
let receiver: Receiver

beforeAll(async () => {
  pgdb = await createTestDatabase()
  db = await openDatabase({ url: pgdb.url, logger: silentLogger })
  other = await openDatabase({ url: pgdb.url, logger: silentLogger, migrate: false })
  await seedTown(db)
  receiver = await createReceiver(SECRET)
  await receiver.listen()
})
afterAll(async () => {
  await receiver?.close()
  await other?.close()
  await db?.close()
  await pgdb?.drop()
})

const missed = (collectionId: number) => ({ collectionId, uprn: U.A, stream: 'residual' as const, dueDate: '2026-03-02', roundId: 'R', contractId: 'K', missedAt: null })

test('a poller never sees a later event before an earlier one commits', async () => {
  let release!: () => void
  const gate = new Promise<void>((r) => { release = r })
  let firstEmitted!: () => void
  const emitted = new Promise<void>((r) => { firstEmitted = r })
  // T1 writes an event and stays open; T2 starts writing after it.
  const t1 = db.transaction(async (tx) => {
    await emitMissedCollectionConfirmed(tx, missed(1))
    firstEmitted()
    await gate
  })
  await emitted
  const t2 = other.transaction((tx) => emitMissedCollectionConfirmed(tx, missed(2)))
  // T2 waits for T1's commit, so nothing is visible yet, and certainly not event 2 alone.
  expect(await listCrmEvents(db, { after: 0, limit: 10 })).toEqual([])
  release()
  await Promise.all([t1, t2])
  const events = await listCrmEvents(db, { after: 0, limit: 10 })
  expect(events.map((e) => e.idempotencyKey)).toEqual(['missed-collection:1', 'missed-collection:2'])
  expect(events[0]!.id).toBeLessThan(events[1]!.id)
})

test('the reward ledger gives the same figures as on the embedded database', async () => {
  const postings = await postRewards(db, { from: '2026-01', now: new Date('2026-04-10T09:00:00Z') })
  expect(postings.map((p) => [p.period, p.entries, p.points])).toEqual([['2026-01', 3, 400], ['2026-02', 3, 400], ['2026-03', 16, 658]])
  expect(await Promise.all([U.A, U.B, U.C, U.D, U.E, U.F].map((u) => rewardBalance(db, u)))).toEqual([330, 8, 118, 2, 1000, 0])
  expect((await postRewards(db, { from: '2026-03', now: new Date('2026-04-10T09:00:00Z') }))[0]!.entries).toBe(0)
})

test('two instances run the worker; one delivers at a time and no event goes twice', async () => {
  for (let i = 3; i <= 40; i++) await db.transaction((tx) => emitMissedCollectionConfirmed(tx, missed(i)))
  const all = await listCrmEvents(db, { after: 0, limit: 1000 })
  const options = { logger: silentLogger, urls: [receiver.url], secrets: [SECRET], pollMs: 10, batchSize: 3 }
  const a = startCrmWebhooks({ ...options, db, registry: new Registry() })
  const b = startCrmWebhooks({ ...options, db: other, registry: new Registry() })
  await waitFor(async () => (await endpointStats(db))[0]?.undelivered === 0, 30_000, 'every event delivered')
  await Promise.all([a.stop(), b.stop()])
  expect(receiver.distinctKeys().size).toBe(all.length)
  expect(receiver.received).toHaveLength(all.length)
  expect(receiver.received.every((r) => r.signatureValid)).toBe(true)
})
