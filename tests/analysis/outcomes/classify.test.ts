// The outcome rules (analysis/outcomes/decide.ts) on hand-made cases: one street, lifts through
// ingest's write path, collections on chosen days (GMT and BST), reports judged by the real assessor.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { createReport, getReport, setReportVerdict } from '../../../storage/reports.ts'
import { classifyOutcomes } from '../../../analysis/outcomes/classify.ts'
import { createReportAssessor } from '../../../analysis/first-contact/assess-report.ts'
import { clearActivity, lifts, schedule, seedStreet, UPRNS } from './fixture.ts'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedStreet(db)
})
afterAll(async () => { await db?.close() })
beforeEach(async () => { await clearActivity(db) })

interface Row { uprn: number; outcome: string; exceptionCode: string | null; liftTs: Date | null; missedAt: Date | null; revision: number; decidedAt: Date; firstReportId: number | null; reportedAt: Date | null; rectifyDeadline: Date | null; rectifiedAt: Date | null; evidence: { events: { ts: string; accepted: boolean; distanceM: number; onDueDay: boolean }[]; overAt: string } }

async function outcomes(dueDate: string): Promise<Map<number, Row>> {
  const { rows } = await db.query<Row>(
    `SELECT uprn, outcome, exception_code AS "exceptionCode", lift_ts AS "liftTs", missed_at AS "missedAt", revision, decided_at AS "decidedAt",
            first_report_id AS "firstReportId", reported_at AS "reportedAt", rectify_deadline AS "rectifyDeadline", rectified_at AS "rectifiedAt", evidence
       FROM collection_outcomes WHERE due_date = $1`, [dueDate],
  )
  return new Map(rows.map((r) => [r.uprn, r]))
}
const classify = (day: string, now: string) => classifyOutcomes(db, { from: day, to: day, now: new Date(now) })

/** File a report as Open311 does: stored, judged by the assessor as the evidence stood, verdict recorded. */
async function report(uprn: number, dueDate: string, at: string) {
  const { report: r } = await createReport(db, { serviceCode: 'missed_residual', stream: 'residual', uprn, collectionDate: dueDate, locatedBy: 'uprn', source: 'test', requestedAt: new Date(at) })
  const verdict = await createReportAssessor(db)(r)
  return (await setReportVerdict(db, r.id, verdict))!
}

describe('on the due day (GMT, Monday 16 March 2026)', () => {
  const day = '2026-03-16'

  test('collected, crew exception, missed; the first lift decides and a lift wins over an exception the same day', async () => {
    await schedule(db, day)
    await lifts(db, [
      { at: '2026-03-16T08:00:00Z', household: 0, weightKg: 12.5 },
      { at: '2026-03-16T08:05:00Z', household: 0, weightKg: 3 }, // lifted twice: the first decides
      { at: '2026-03-16T08:10:00Z', household: 2, outcome: 'not_presented' },
      { at: '2026-03-16T08:12:00Z', household: 3, outcome: 'contaminated' },
      { at: '2026-03-16T09:30:00Z', household: 3 }, // the crew came back and emptied it
    ])
    const report = await classify(day, '2026-03-17T09:00:00Z')
    expect(report).toMatchObject({ decided: 5, inserted: 5, rewritten: 0, outcomes: { collected: 2, crew_exception: 1, missed: 2 } })
    const o = await outcomes(day)
    expect(o.get(UPRNS[0])).toMatchObject({ outcome: 'collected', liftTs: new Date('2026-03-16T08:00:00Z'), exceptionCode: null, revision: 1 })
    expect(o.get(UPRNS[0])!.evidence.events).toHaveLength(2)
    expect(o.get(UPRNS[2])).toMatchObject({ outcome: 'crew_exception', exceptionCode: 'not_presented', liftTs: new Date('2026-03-16T08:10:00Z') })
    expect(o.get(UPRNS[3])).toMatchObject({ outcome: 'collected', liftTs: new Date('2026-03-16T09:30:00Z') })
    // Vehicle idle from 09:30: the round is over at the later of its planned end (15:00) and that, plus 30 minutes.
    expect(o.get(UPRNS[1])).toMatchObject({ outcome: 'missed', liftTs: null, missedAt: new Date('2026-03-16T15:30:00Z') })
  })

  test('a lift recorded farther than 150 m from the property is kept as evidence but does not count', async () => {
    await schedule(db, day)
    await lifts(db, [
      { at: '2026-03-16T08:00:00Z', household: 0, metresAway: 400 },
      { at: '2026-03-16T08:01:00Z', household: 1, metresAway: 140 },
    ])
    await classify(day, '2026-03-17T09:00:00Z')
    const o = await outcomes(day)
    expect(o.get(UPRNS[0])!.outcome).toBe('missed')
    expect(o.get(UPRNS[0])!.evidence.events).toEqual([expect.objectContaining({ accepted: false, onDueDay: true, distanceM: expect.closeTo(400, 0) })])
    expect(o.get(UPRNS[1])).toMatchObject({ outcome: 'collected' })
    expect(o.get(UPRNS[1])!.evidence.events[0]).toMatchObject({ accepted: true, distanceM: expect.closeTo(140, 0) })
  })

  test('pending while the round runs, late crews included; missed once its vehicle has been idle 30 minutes', async () => {
    await schedule(db, day)
    await lifts(db, [{ at: '2026-03-16T10:00:00Z', household: 0 }, { at: '2026-03-16T17:40:00Z', household: 4 }])
    await classify(day, '2026-03-16T14:00:00Z')
    expect((await outcomes(day)).get(UPRNS[1])!.outcome).toBe('pending')
    await classify(day, '2026-03-16T18:05:00Z') // planned end 15:00 is past, but the crew lifted at 17:40
    expect((await outcomes(day)).get(UPRNS[1])!.outcome).toBe('pending')
    await classify(day, '2026-03-16T18:11:00Z')
    expect((await outcomes(day)).get(UPRNS[1])).toMatchObject({ outcome: 'missed', missedAt: new Date('2026-03-16T18:10:00Z') })
  })

  test('a valid report establishes the miss before the round is over', async () => {
    await schedule(db, day)
    await lifts(db, [{ at: '2026-03-16T10:00:00Z', household: 0 }, { at: '2026-03-16T16:00:00Z', household: 3 }, { at: '2026-03-16T16:40:00Z', household: 4 }])
    const r = await report(UPRNS[1], day, '2026-03-16T16:30:00Z') // the crew has passed number 2, and is still out
    expect(r.validity).toBe('valid')
    await classify(day, '2026-03-16T16:45:00Z')
    expect((await outcomes(day)).get(UPRNS[1])).toMatchObject({ outcome: 'missed', missedAt: new Date('2026-03-16T16:30:00Z'), firstReportId: r.id })
    expect((await outcomes(day)).get(UPRNS[2])!.outcome).toBe('pending') // not reported: waits for the round's end
  })

  test('late data: a lift arriving after the miss was recorded turns it into collected, and the revision goes up', async () => {
    await schedule(db, day)
    await lifts(db, [{ at: '2026-03-16T10:00:00Z', household: 0 }])
    await classify(day, '2026-03-16T20:00:00Z')
    const before = (await outcomes(day)).get(UPRNS[1])!
    expect(before).toMatchObject({ outcome: 'missed', revision: 1 })
    await lifts(db, [{ at: '2026-03-16T10:02:00Z', household: 1 }]) // buffered by the vehicle unit, delivered late
    const again = await classify(day, '2026-03-17T08:00:00Z')
    expect(again.rewritten).toBeGreaterThanOrEqual(1)
    const after = (await outcomes(day)).get(UPRNS[1])!
    expect(after).toMatchObject({ outcome: 'collected', revision: 2, liftTs: new Date('2026-03-16T10:02:00Z'), missedAt: null, decidedAt: new Date('2026-03-17T08:00:00Z') })
  })

  test('idempotent: deciding again with nothing new writes nothing and keeps the revision', async () => {
    await schedule(db, day)
    await lifts(db, [{ at: '2026-03-16T10:00:00Z', household: 0 }])
    await classify(day, '2026-03-17T08:00:00Z')
    const again = await classify(day, '2026-03-18T08:00:00Z')
    expect(again).toMatchObject({ decided: 5, inserted: 0, rewritten: 0 })
    expect([...(await outcomes(day)).values()].every((r) => r.revision === 1 && r.decidedAt.getTime() === Date.parse('2026-03-17T08:00:00Z'))).toBe(true)
  })

  test('a tag ingest did not know yet (bin registered after the lift) is matched to the bin by its tag', async () => {
    await schedule(db, day)
    await db.query(`UPDATE bins SET rfid_tag = NULL WHERE uprn = $1`, [UPRNS[4]])
    await lifts(db, [{ at: '2026-03-16T10:00:00Z', household: 4, tag: 'TAG-NEW-5' }])
    expect((await db.query(`SELECT bin_id FROM lift_events WHERE tag = 'TAG-NEW-5'`)).rows).toEqual([{ bin_id: null }])
    await db.query(`UPDATE bins SET rfid_tag = 'TAG-NEW-5' WHERE uprn = $1`, [UPRNS[4]])
    try {
      await classify(day, '2026-03-17T08:00:00Z')
      expect((await outcomes(day)).get(UPRNS[4])!.outcome).toBe('collected')
    } finally {
      await db.query(`UPDATE bins SET rfid_tag = 'TAG-' || uprn WHERE uprn = $1`, [UPRNS[4]])
    }
  })
})

describe('British Summer Time: the due day is the UK calendar day', () => {
  test('Monday 30 March 2026 (BST) runs from 23:00 UTC on the 29th to 23:00 UTC on the 30th', async () => {
    const day = '2026-03-30'
    await schedule(db, day)
    await lifts(db, [
      { at: '2026-03-29T22:30:00Z', household: 1 }, // 23:30 BST on Sunday: not this collection
      { at: '2026-03-29T23:30:00Z', household: 0 }, // 00:30 BST on Monday
      { at: '2026-03-30T22:30:00Z', household: 2 }, // 23:30 BST on Monday
      { at: '2026-03-30T23:10:00Z', household: 3 }, // 00:10 BST on Tuesday: the day after
    ])
    await classify(day, '2026-04-01T12:00:00Z')
    const o = await outcomes(day)
    expect(o.get(UPRNS[0])!.outcome).toBe('collected')
    expect(o.get(UPRNS[1])!.outcome).toBe('missed')
    expect(o.get(UPRNS[2])!.outcome).toBe('collected')
    expect(o.get(UPRNS[3])).toMatchObject({ outcome: 'collected_late', liftTs: new Date('2026-03-30T23:10:00Z') })
    // Midnight BST: the lift at 23:30 BST kept the round going until the day ended.
    expect(new Date(o.get(UPRNS[1])!.evidence.overAt)).toEqual(new Date('2026-03-30T23:00:00Z'))
  })
})

describe('after the due day', () => {
  test('collected late without a report; rectified after a valid one, by the deadline the report was given', async () => {
    const day = '2026-03-16'
    await schedule(db, day)
    await lifts(db, [{ at: '2026-03-16T09:00:00Z', household: 0 }, { at: '2026-03-16T12:00:00Z', household: 4 }])
    const r = await report(UPRNS[1], day, '2026-03-16T18:00:00Z')
    expect(r).toMatchObject({ validity: 'valid', expectedDatetime: new Date('2026-03-17T17:00:00Z') }) // next working day, 17:00 GMT
    await lifts(db, [{ at: '2026-03-17T10:00:00Z', household: 1 }, { at: '2026-03-17T10:05:00Z', household: 2 }])
    await classify(day, '2026-03-18T08:00:00Z')
    const o = await outcomes(day)
    expect(o.get(UPRNS[1])).toMatchObject({
      outcome: 'rectified', firstReportId: r.id, reportedAt: new Date('2026-03-16T18:00:00Z'), rectifyDeadline: new Date('2026-03-17T17:00:00Z'),
      rectifiedAt: new Date('2026-03-17T10:00:00Z'), liftTs: new Date('2026-03-17T10:00:00Z'), missedAt: new Date('2026-03-16T15:30:00Z'),
    })
    expect(o.get(UPRNS[2])).toMatchObject({ outcome: 'collected_late', firstReportId: null, rectifiedAt: null })
    expect(o.get(UPRNS[3])!.outcome).toBe('missed')
  })

  test('the rectification deadline skips Good Friday, the weekend and Easter Monday', async () => {
    const day = '2026-04-02' // Thursday before Easter (BST)
    await schedule(db, day)
    await lifts(db, [{ at: '2026-04-02T08:00:00Z', household: 0 }, { at: '2026-04-02T11:00:00Z', household: 4 }])
    const late = await report(UPRNS[1], day, '2026-04-02T17:00:00Z')
    const onTime = await report(UPRNS[2], day, '2026-04-02T17:05:00Z')
    // The next working day after Thursday 2 April is Tuesday 7 April: 17:00 BST.
    expect(late.expectedDatetime).toEqual(new Date('2026-04-07T16:00:00Z'))
    expect(onTime.expectedDatetime).toEqual(new Date('2026-04-07T16:00:00Z'))
    await lifts(db, [{ at: '2026-04-07T09:00:00Z', household: 2 }, { at: '2026-04-08T08:00:00Z', household: 1 }])
    await classify(day, '2026-04-09T08:00:00Z')
    const o = await outcomes(day)
    expect(o.get(UPRNS[2])).toMatchObject({ outcome: 'rectified', rectifiedAt: new Date('2026-04-07T09:00:00Z') })
    expect(o.get(UPRNS[1])).toMatchObject({ outcome: 'rectified_late', rectifyDeadline: new Date('2026-04-07T16:00:00Z'), rectifiedAt: new Date('2026-04-08T08:00:00Z') })
  })

  test('a report after the classification brings in reported_at, first_report_id and the deadline at once', async () => {
    const day = '2026-03-16'
    await schedule(db, day)
    await lifts(db, [{ at: '2026-03-16T09:00:00Z', household: 0 }, { at: '2026-03-16T12:00:00Z', household: 4 }])
    await classify(day, '2026-03-16T20:00:00Z')
    expect((await outcomes(day)).get(UPRNS[3])).toMatchObject({ outcome: 'missed', firstReportId: null, revision: 1 })
    const r = await report(UPRNS[3], day, '2026-03-16T20:30:00Z')
    expect((await outcomes(day)).get(UPRNS[3])).toMatchObject({
      outcome: 'missed', firstReportId: r.id, reportedAt: new Date('2026-03-16T20:30:00Z'), rectifyDeadline: new Date('2026-03-17T17:00:00Z'), revision: 2,
    })
    expect((await getReport(db, r.id))!.status).toBe('open')
  })
})
