// The CRM outbox: one event per idempotency key, checked against the contract, written in the
// transaction of the change (gone with it on rollback), and "report closed" from closing a report.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { CrmEventError, emitCrmEvent, emitMissedCollectionConfirmed, listCrmEvents } from '../../storage/crm-outbox.ts'
import { closeReport, createReport, setReportVerdict } from '../../storage/reports.ts'
import { seedMinimalRegistry } from '../helpers/stack.ts'

const UPRN = 100000000001
let db: Database
beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedMinimalRegistry(db)
  await db.query(`UPDATE households SET crm_ref = 'ACC-1' WHERE uprn = $1`, [UPRN])
})
afterAll(async () => db?.close())

const missed = { collectionId: 7, uprn: UPRN, stream: 'residual' as const, dueDate: '2026-03-02', roundId: 'R', contractId: 'K', missedAt: new Date('2026-03-02T16:00:00Z'), reportId: 12 }

test('the same key twice is one event; the household\'s CRM reference is attached', async () => {
  const first = await db.transaction((tx) => emitMissedCollectionConfirmed(tx, missed))
  const second = await db.transaction((tx) => emitMissedCollectionConfirmed(tx, missed))
  expect(first.created).toBe(true)
  expect(second).toEqual({ id: first.id, created: false })
  expect(await listCrmEvents(db, { after: 0, limit: 10 })).toEqual([{
    id: first.id, idempotencyKey: 'missed-collection:7', type: 'collection.missed_confirmed', occurredAt: '2026-03-02T16:00:00.000Z', uprn: UPRN, crmRef: 'ACC-1',
    data: { collectionId: 7, stream: 'residual', dueDate: '2026-03-02', roundId: 'R', contractId: 'K', missedAt: '2026-03-02T16:00:00.000Z', reportId: 12, rectifyDeadline: null },
  }])
})

test('an event that does not match the contract is refused; a rolled-back change leaves no event', async () => {
  await expect(db.transaction((tx) => emitCrmEvent(tx, { type: 'report.closed', idempotencyKey: 'x', uprn: UPRN, data: { reportId: 'seven' } as never }))).rejects.toThrow(CrmEventError)
  await expect(db.transaction((tx) => emitMissedCollectionConfirmed(tx, { ...missed, dueDate: '2026-02-30' }))).rejects.toThrow(/dueDate/)
  await expect(db.transaction(async (tx) => {
    await emitMissedCollectionConfirmed(tx, { ...missed, collectionId: 8 })
    throw new Error('the change failed')
  })).rejects.toThrow('the change failed')
  expect((await listCrmEvents(db, { after: 0, limit: 10 })).map((e) => e.idempotencyKey)).toEqual(['missed-collection:7'])
})

test('closing a report emits "report closed" once, whichever way it closes', async () => {
  const { report: a } = await createReport(db, { serviceCode: 'missed_residual', stream: 'residual', uprn: UPRN, locatedBy: 'uprn', source: 'crm', collectionDate: '2026-03-02' })
  const { report: b } = await createReport(db, { serviceCode: 'missed_recycling', stream: 'recycling', uprn: UPRN, locatedBy: 'uprn', source: 'crm' })
  await setReportVerdict(db, a.id, { validity: 'valid', statusNotes: 'Confirmed missed; return due tomorrow.' })
  expect((await listCrmEvents(db, { after: 0, limit: 10 })).filter((e) => e.type === 'report.closed')).toEqual([])
  await closeReport(db, a.id, 'Collected on the return visit.')
  await closeReport(db, a.id, 'Closed again (no change).')
  await setReportVerdict(db, b.id, { validity: 'invalid', reason: 'The crew recorded the bin as not presented.', close: true })
  const closed = (await listCrmEvents(db, { after: 0, limit: 10 })).filter((e) => e.type === 'report.closed')
  expect(closed.map((e) => [e.idempotencyKey, e.uprn, e.crmRef])).toEqual([[`report-closed:${a.id}`, UPRN, 'ACC-1'], [`report-closed:${b.id}`, UPRN, 'ACC-1']])
  expect(closed[0]!.data).toMatchObject({ reportId: a.id, serviceRequestId: String(a.id), stream: 'residual', collectionDate: '2026-03-02', validity: 'valid', statusNotes: 'Collected on the return visit.' })
  expect(closed[1]!.data).toMatchObject({ validity: 'invalid' })
})
