// The pull API of CRM events: pages after a cursor, in order, nothing skipped or repeated as events
// keep coming; for the CRM and admins only. Admin views of webhook delivery.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import { silentLogger } from '../../core/log.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { emitMissedCollectionConfirmed } from '../../storage/crm-outbox.ts'
import { registerEndpoint } from '../../storage/crm-deliveries.ts'
import { seedMinimalRegistry } from '../helpers/stack.ts'

const ADMIN = 'admin-key-of-the-events-test-0123'
let db: Database
let app: Api
const keys: Record<string, string> = {}
const get = (url: string, key?: string) => app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} })
const emit = (from: number, n: number) => db.transaction(async (tx) => {
  for (let i = from; i < from + n; i++) {
    await emitMissedCollectionConfirmed(tx, { collectionId: i, uprn: 100000000001 + (i % 2), stream: 'residual', dueDate: '2026-03-02', roundId: 'R', contractId: 'K', missedAt: null })
  }
})

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  await seedMinimalRegistry(db)
  for (const role of ['crm', 'contract_manager', 'viewer'] as const) keys[role] = (await createApiKey(db, `${role} system`, role)).key
})
afterAll(async () => { await app?.close(); await db?.close() })

test('paging with the cursor returns every event once, in order, while more are written', async () => {
  await emit(1, 25)
  const seen: number[] = []
  let after = 0
  for (let round = 0; round < 20; round++) {
    const res = await get(`/api/v1/events?after=${after}&limit=10`, keys.crm)
    expect(res.statusCode).toBe(200)
    const page = res.json() as { events: { id: number; data: { collectionId: number } }[]; nextAfter: number; hasMore: boolean }
    seen.push(...page.events.map((e) => e.data.collectionId))
    after = page.nextAfter
    if (round === 1) await emit(26, 7)
    if (!page.hasMore) break
  }
  expect(seen).toEqual(Array.from({ length: 32 }, (_, i) => i + 1))
  const empty = (await get(`/api/v1/events?after=${after}`, keys.crm)).json()
  expect(empty).toEqual({ events: [], nextAfter: after, hasMore: false })
})

test('events have the webhook shape', async () => {
  const [event] = (await get('/api/v1/events?limit=1', keys.crm)).json().events
  expect(event).toEqual({
    id: expect.any(Number), idempotencyKey: 'missed-collection:1', type: 'collection.missed_confirmed', occurredAt: expect.any(String), uprn: 100000000002, crmRef: null,
    data: { collectionId: 1, stream: 'residual', dueDate: '2026-03-02', roundId: 'R', contractId: 'K', missedAt: null, reportId: null, rectifyDeadline: null },
  })
})

test('401 without a key, 403 for roles other than crm and admin, 400 for a bad cursor', async () => {
  expect((await get('/api/v1/events')).statusCode).toBe(401)
  for (const role of ['viewer', 'contract_manager']) expect((await get('/api/v1/events', keys[role])).statusCode).toBe(403)
  expect((await get('/api/v1/events', ADMIN)).statusCode).toBe(200)
  expect((await get('/api/v1/events?after=-1', keys.crm)).statusCode).toBe(400)
  expect((await get('/api/v1/events?limit=5000', keys.crm)).statusCode).toBe(400)
})

test('webhook endpoints and dead letters for admins', async () => {
  await registerEndpoint(db, '0123456789abcdef', 'https://crm.example.gov.uk/hooks')
  const res = await get('/api/v1/events/webhooks', ADMIN)
  expect(res.statusCode).toBe(200)
  expect(res.json()).toEqual([{ endpointId: '0123456789abcdef', url: 'https://crm.example.gov.uk/hooks', undelivered: 32, oldestUndeliveredAt: expect.any(String), delivered: 0, dead: 0, consecutiveFailures: 0, pausedUntil: null }])
  expect((await get('/api/v1/events/webhooks/dead-letters', ADMIN)).json()).toEqual([])
  expect((await get('/api/v1/events/webhooks', keys.crm)).statusCode).toBe(403)
  const requeue = await app.inject({ method: 'POST', url: '/api/v1/events/webhooks/dead-letters/requeue', headers: { authorization: `Bearer ${ADMIN}` }, payload: {} })
  expect(requeue.json()).toEqual({ requeued: 0 })
})
