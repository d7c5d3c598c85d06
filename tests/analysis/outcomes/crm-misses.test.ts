// Issue 17: every confirmed miss reaches the CRM once. On the test street (five households, a Monday
// round 07:00–15:00, household 1 with a bin sensor) the crew empties households 2, 3 and 5 and passes
// 1 and 4. Hand-computed:
//   - proactive detection at 12:15 confirms household 1 (its sensor saw the bin out and still full);
//   - the hourly outcomes job at 16:10 decides 1 and 4 missed (round over at 15:00 + 30 min = 15:30),
//     and writes the event for 4 only: 1's key is taken;
//   - a buffered lift of household 4 at 11:00 arrives; the next morning's run decides it collected
//     and withdraws the miss ("a lift of the bin at 11:00 on Mon 16 Mar was recorded");
//   - re-runs, the proactive job again, a restart of the process and the one-off backfill add nothing;
//   - a real webhook receiver gets exactly one collection.missed_confirmed per miss, and one withdrawal.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import { deviceTopic, parseTopic } from '../../../core/contract/topics.ts'
import { writeBatch } from '../../../ingest/write-batch.ts'
import { startCrmWebhooks } from '../../../analysis/crm-feed/webhook-worker.ts'
import { crmMissBackfillJob } from '../../../analysis/outcomes/crm-backfill-job.ts'
import { outcomesJob } from '../../../analysis/outcomes/job.ts'
import { detectMisses } from '../../../analysis/proactive/detect.ts'
import { proactiveMissesJob } from '../../../analysis/proactive/job.ts'
import { startScheduler } from '../../../analysis/scheduler.ts'
import { listCrmEvents } from '../../../storage/crm-outbox.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { waitFor } from '../../helpers/stack.ts'
import { createReceiver } from '../../helpers/webhook-receiver.ts'
import { collectionId, lifts, schedule, seedStreet, UPRNS } from './fixture.ts'

const SECRET = 'test-webhook-secret-0123456789abcdef'
const DUE = '2026-03-16'
let dataDir: string
let db: Database

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kerbside-crm-misses-'))
  db = await openDatabase({ logger: silentLogger, dataDir })
  await seedStreet(db)
})
afterAll(async () => {
  await db?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

let sensorSeq = 100
async function sensorReading(at: string, fillPct: number, status: string): Promise<void> {
  const body = { seq: ++sensorSeq, ts: at, fillPct, status }
  const topic = deviceTopic('bin', 'sensor-1', 'reading')
  await db.transaction((tx) => writeBatch(tx, [{ topic, payload: Buffer.from(JSON.stringify(body)), receivedAt: new Date(), parsed: parseTopic(topic), result: { ok: true, message: { kind: 'reading', body } } }]))
}

const events = async () => listCrmEvents(db, { after: 0, limit: 1000 })
const runOutcomes = (at: string) => outcomesJob.run({ db, logger: silentLogger, now: new Date(at), period: at.slice(0, 13) }) as Promise<Record<string, { crmEvents: { confirmed: number; withdrawn: number } }>>

test('one collection.missed_confirmed per miss across proactive detection, classification, re-runs and a restart; a withdrawal when a late lift arrives', async () => {
  await schedule(db, DUE)
  const [c1, c4] = [await collectionId(db, UPRNS[0], DUE), await collectionId(db, UPRNS[3], DUE)]
  // Household 1's bin went out the evening before and stays full.
  await sensorReading('2026-03-15T19:00:00Z', 78, 'moved')
  await sensorReading('2026-03-16T09:00:00Z', 80, 'moved')
  await sensorReading('2026-03-16T11:00:00Z', 81, 'moved')
  await lifts(db, [{ at: '2026-03-16T08:00:00Z', household: 1 }, { at: '2026-03-16T08:05:00Z', household: 2 }, { at: '2026-03-16T08:15:00Z', household: 4 }])

  // 12:15: proactive detection confirms household 1 (the crew passed it: household 5 was lifted after).
  const proactive = await detectMisses(db, { now: new Date('2026-03-16T12:15:00Z') })
  expect(proactive.crmEvents).toBe(1)
  let all = await events()
  expect(all.map((e) => e.idempotencyKey)).toEqual([`missed-collection:${c1}`])
  expect(all[0]!.data).toMatchObject({ collectionId: c1, reportId: null, rectifyDeadline: '2026-03-17T17:00:00.000Z' })

  // 16:10: the outcome analysis decides 1 and 4 missed; only 4 is new to the CRM.
  const first = await runOutcomes('2026-03-16T16:10:00Z')
  expect(first.recent!.crmEvents).toEqual({ confirmed: 1, withdrawn: 0 })
  all = await events()
  expect(all.map((e) => e.idempotencyKey)).toEqual([`missed-collection:${c1}`, `missed-collection:${c4}`])
  expect(all[1]).toMatchObject({
    type: 'collection.missed_confirmed', uprn: UPRNS[3], occurredAt: '2026-03-16T15:30:00.000Z',
    data: { collectionId: c4, stream: 'residual', dueDate: DUE, roundId: 'res-mon-t', contractId: 'tk', missedAt: '2026-03-16T15:30:00.000Z', reportId: null, rectifyDeadline: null },
  })

  // The same run again, and proactive detection again: nothing new.
  expect((await runOutcomes('2026-03-16T16:10:00Z')).recent!.crmEvents).toEqual({ confirmed: 0, withdrawn: 0 })
  await detectMisses(db, { now: new Date('2026-03-16T16:15:00Z') })
  expect(await events()).toHaveLength(2)

  // The vehicle unit delivers a lift it had buffered: household 4 was emptied at 11:00 on the day.
  await lifts(db, [{ at: '2026-03-16T11:00:00Z', household: 3 }])
  const next = await runOutcomes('2026-03-17T09:10:00Z')
  expect(next.recent!.crmEvents).toEqual({ confirmed: 0, withdrawn: 1 })
  all = await events()
  expect(all).toHaveLength(3)
  expect(all[2]).toMatchObject({
    type: 'collection.miss_withdrawn', idempotencyKey: `miss-withdrawn:${c4}`, uprn: UPRNS[3],
    data: { collectionId: c4, dueDate: DUE, reason: 'a lift of the bin at 11:00 on Mon 16 Mar was recorded', withdrawnAt: '2026-03-17T09:10:00.000Z' },
  })
  // Proactive detection had only suspected household 4: its withdrawal adds no event of its own.
  await detectMisses(db, { now: new Date('2026-03-17T09:15:00Z') })
  expect(await events()).toHaveLength(3)

  // A restart: a new process on the same data runs the jobs again (a new hour, the backfill at start).
  await db.close()
  db = await openDatabase({ logger: silentLogger, dataDir })
  const scheduler = startScheduler({ db, logger: silentLogger, registry: new Registry(), timezone: 'Europe/London', jobs: [outcomesJob, proactiveMissesJob, crmMissBackfillJob], autostart: false })
  try {
    expect(await scheduler.runNow('crm-miss-backfill', new Date('2026-03-17T10:00:00Z'))).toMatchObject({ status: 'done', detail: { confirmed: 0, withdrawn: 0 } })
    expect((await scheduler.runNow('outcomes', new Date('2026-03-17T10:10:00Z'))).status).toBe('done')
    expect((await scheduler.runNow('proactive-misses', new Date('2026-03-17T10:15:00Z'))).status).toBe('done')
  } finally {
    scheduler.stop()
  }
  all = await events()
  expect(all.map((e) => e.type)).toEqual(['collection.missed_confirmed', 'collection.missed_confirmed', 'collection.miss_withdrawn'])

  // The CRM's webhook receiver: exactly one missed_confirmed per miss, one withdrawal.
  const receiver = await createReceiver(SECRET)
  await receiver.listen()
  const worker = startCrmWebhooks({ db, logger: silentLogger, registry: new Registry(), urls: [receiver.url], secrets: [SECRET], pollMs: 10 })
  try {
    await waitFor(() => receiver.acknowledged.size === 3, 10_000, 'three events acknowledged')
  } finally {
    await worker.stop()
    await receiver.close()
  }
  expect(receiver.received.every((r) => r.signatureValid)).toBe(true)
  const confirmed = receiver.received.filter((r) => r.type === 'collection.missed_confirmed').map((r) => (JSON.parse(r.body) as { data: { collectionId: number } }).data.collectionId)
  expect(new Set(confirmed)).toEqual(new Set([c1, c4]))
  expect(new Set(receiver.received.filter((r) => r.type === 'collection.miss_withdrawn').map((r) => r.idempotencyKey))).toEqual(new Set([`miss-withdrawn:${c4}`]))
})

test('the one-off backfill tells the CRM of misses decided before the analysis wrote events, once', async () => {
  // Outcomes written as an older Kerbside left them: decided, with no event.
  await schedule(db, '2026-03-09')
  const ids = await Promise.all(UPRNS.map((u) => collectionId(db, u, '2026-03-09')))
  const outcome = ['collected', 'missed', 'rectified', 'crew_exception', 'collected_late'] as const
  for (const [k, id] of ids.entries()) {
    await db.query(
      `INSERT INTO collection_outcomes (collection_id, uprn, stream, round_id, contract_id, due_date, outcome, exception_code, missed_at)
       VALUES ($1, $2, 'residual', 'res-mon-t', 'tk', '2026-03-09', $3, $4, $5)`,
      [id, UPRNS[k], outcome[k], outcome[k] === 'crew_exception' ? 'not_presented' : null, ['missed', 'rectified', 'collected_late'].includes(outcome[k]!) ? '2026-03-09T15:30:00Z' : null],
    )
  }
  const before = (await events()).length
  const scheduler = startScheduler({ db, logger: silentLogger, registry: new Registry(), timezone: 'Europe/London', jobs: [crmMissBackfillJob], autostart: false })
  try {
    await db.query(`DELETE FROM job_runs WHERE job = 'crm-miss-backfill'`) // as on a deployment that never ran it
    // Household 2 missed, household 3 rectified: two misses; collected, the exception and the late collection are not.
    expect(await scheduler.runNow('crm-miss-backfill', new Date('2026-03-20T04:45:00Z'))).toMatchObject({ status: 'done', detail: { confirmed: 2, withdrawn: 0 } })
    expect((await scheduler.runNow('crm-miss-backfill', new Date('2026-03-21T04:45:00Z'))).status).toBe('skipped')
  } finally {
    scheduler.stop()
  }
  const added = (await events()).slice(before)
  expect(added.map((e) => e.idempotencyKey)).toEqual([`missed-collection:${ids[1]}`, `missed-collection:${ids[2]}`])
  expect(added[0]).toMatchObject({ occurredAt: '2026-03-09T15:30:00.000Z', data: { dueDate: '2026-03-09', missedAt: '2026-03-09T15:30:00.000Z' } })
})

test('a miss proactive detection confirmed is withdrawn by the first decision of the day when a buffered lift arrives first', async () => {
  // Mon 23 Mar: household 1's bin out and full, the crew empties 2–5 and passes it; proactive detection
  // confirms the miss at 12:15. Then the unit delivers a lift of household 1 at 10:00 before any outcome
  // run: the day's first decision is collected, and that decision withdraws the miss.
  const day = '2026-03-23'
  await schedule(db, day)
  const c1 = await collectionId(db, UPRNS[0], day)
  await sensorReading('2026-03-22T19:00:00Z', 78, 'moved')
  await sensorReading('2026-03-23T09:00:00Z', 80, 'moved')
  await sensorReading('2026-03-23T11:00:00Z', 81, 'moved')
  await lifts(db, [{ at: '2026-03-23T08:00:00Z', household: 1 }, { at: '2026-03-23T08:05:00Z', household: 2 }, { at: '2026-03-23T08:10:00Z', household: 3 }, { at: '2026-03-23T08:15:00Z', household: 4 }])
  expect((await detectMisses(db, { now: new Date('2026-03-23T12:15:00Z') })).crmEvents).toBe(1)
  await lifts(db, [{ at: '2026-03-23T10:00:00Z', household: 0 }])
  const run = await runOutcomes('2026-03-23T16:10:00Z')
  expect(run.recent!.crmEvents).toEqual({ confirmed: 0, withdrawn: 1 })
  const mine = (await events()).filter((e) => (e.data as { collectionId?: number }).collectionId === c1)
  expect(mine.map((e) => [e.type, e.idempotencyKey])).toEqual([['collection.missed_confirmed', `missed-collection:${c1}`], ['collection.miss_withdrawn', `miss-withdrawn:${c1}`]])
  expect(mine[1]!.data).toMatchObject({ reason: 'a lift of the bin at 10:00 on Mon 23 Mar was recorded' })
})
