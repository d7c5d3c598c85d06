// Regression (issue 17): proactive detection withdrew a miss the CRM had been told of by the outcome
// analysis without telling the CRM. It asked only whether it had sent the event itself
// (proactive_misses.crm_event_id), so a miss it had only suspected — and the hourly classification
// had then confirmed to the CRM — was withdrawn in Kerbside and still missed in the customer record.
// docs/crm-integration.md: "collection.miss_withdrawn: a miss the CRM was told of is withdrawn …, or
// proactive detection withdraws it".
//
// The test street (a Monday round 07:00–15:00, households 1–5; household 1's bin has a sensor), Mon 16
// Mar 2026 (GMT). The crew empties 2, 3 and 5 and passes 1 and 4. Hand-computed:
//   12:15 proactive detection: 1 and 4 passed with nothing logged, 1's sensor has sent nothing yet
//         (unknown): both suspected at low confidence (passed_by), no event;
//   16:10 the outcome analysis decides 1 and 4 missed (round over 15:30): two events;
//   the sensor's buffered readings arrive: 80 % and out at 07:00, 6 % at 09:00, after the crew passed
//         household 1 (lifting 2 at 08:05): emptied (a fall from ≥ 25 % to under 12 %);
//   16:15 proactive detection withdraws 1 ("the bin's sensor shows it was emptied"): the CRM was told
//         of it, so one collection.miss_withdrawn; 4 stays as it was; nothing else.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import { deviceTopic, parseTopic } from '../../../core/contract/topics.ts'
import { writeBatch } from '../../../ingest/write-batch.ts'
import { outcomesJob } from '../../../analysis/outcomes/job.ts'
import { detectMisses } from '../../../analysis/proactive/detect.ts'
import { listCrmEvents } from '../../../storage/crm-outbox.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { collectionId, lifts, schedule, seedStreet, UPRNS } from '../outcomes/fixture.ts'

const DUE = '2026-03-16'
let db: Database

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedStreet(db)
})
afterAll(async () => { await db?.close() })

let sensorSeq = 0
async function sensorReading(at: string, fillPct: number, status: string): Promise<void> {
  const body = { seq: ++sensorSeq, ts: at, fillPct, status }
  const topic = deviceTopic('bin', 'sensor-1', 'reading')
  await db.transaction((tx) => writeBatch(tx, [{ topic, payload: Buffer.from(JSON.stringify(body)), receivedAt: new Date(), parsed: parseTopic(topic), result: { ok: true, message: { kind: 'reading', body } } }]))
}
const collectionEvents = async () => (await listCrmEvents(db, { after: 0, limit: 100 })).filter((e) => e.type.startsWith('collection.'))

test('a miss proactive detection only suspected, confirmed to the CRM by the outcome analysis, then withdrawn on the sensor\'s evidence: the CRM is told', async () => {
  await schedule(db, DUE)
  const [c1, c4] = [await collectionId(db, UPRNS[0], DUE), await collectionId(db, UPRNS[3], DUE)]
  await lifts(db, [{ at: '2026-03-16T08:05:00Z', household: 1 }, { at: '2026-03-16T08:10:00Z', household: 2 }, { at: '2026-03-16T08:20:00Z', household: 4 }])

  const noon = await detectMisses(db, { now: new Date('2026-03-16T12:15:00Z') })
  expect(noon.crmEvents).toBe(0)
  const { rows: suspected } = await db.query<{ id: number; status: string }>(`SELECT collection_id AS id, status FROM proactive_misses ORDER BY collection_id`)
  expect(suspected.map((r) => [Number(r.id), r.status])).toEqual([[c1, 'suspected'], [c4, 'suspected']])

  await outcomesJob.run({ db, logger: silentLogger, now: new Date('2026-03-16T16:10:00Z'), period: '2026-03-16T16' })
  expect((await collectionEvents()).map((e) => e.idempotencyKey)).toEqual([`missed-collection:${c1}`, `missed-collection:${c4}`])

  await sensorReading('2026-03-16T07:00:00Z', 80, 'moved')
  await sensorReading('2026-03-16T09:00:00Z', 6, 'ok')
  const later = await detectMisses(db, { now: new Date('2026-03-16T16:15:00Z') })
  expect(later.withdrawn).toBe(1)
  const events = await collectionEvents()
  expect(events.map((e) => e.idempotencyKey)).toEqual([`missed-collection:${c1}`, `missed-collection:${c4}`, `miss-withdrawn:${c1}`])
  expect(events[2]).toMatchObject({ type: 'collection.miss_withdrawn', uprn: UPRNS[0], data: { collectionId: c1, reason: 'the bin\'s sensor shows it was emptied', withdrawnAt: '2026-03-16T16:15:00.000Z' } })

  // Again: nothing new.
  await detectMisses(db, { now: new Date('2026-03-16T16:30:00Z') })
  expect(await collectionEvents()).toHaveLength(3)
})
