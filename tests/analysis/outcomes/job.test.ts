// The hourly "outcomes" job: pending reports assessed, recent days decided, earlier unsettled ones
// re-decided for late data, reports closed when the return visit came (or re-judged when late data
// contradicts them), and each hour's run done once however often it is started.
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import { silentLogger } from '../../../core/log.ts'
import { CORE_JOBS, startScheduler } from '../../../analysis/scheduler.ts'
import { outcomesJob } from '../../../analysis/outcomes/job.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { createReport, getReport, listReportUpdates } from '../../../storage/reports.ts'
import { clearActivity, lifts, REGISTRATION, schedule, seedStreet, UPRNS } from './fixture.ts'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedStreet(db)
})
afterAll(async () => { await db?.close() })
beforeEach(async () => {
  await clearActivity(db)
  await db.query(`DELETE FROM job_runs WHERE job = 'outcomes'`)
})

const run = async (now: string) => (await outcomesJob.run({ db, logger: silentLogger, now: new Date(now), period: new Date(now).toISOString().slice(0, 13) })) as Record<string, unknown>
const outcomeOf = async (uprn: number, due: string) =>
  (await db.query<{ outcome: string }>(`SELECT outcome FROM collection_outcomes WHERE uprn = $1 AND due_date = $2`, [uprn, due])).rows[0]?.outcome
const fileWithoutAssessor = async (uprn: number, due: string, at: string) =>
  (await createReport(db, { serviceCode: 'missed_residual', stream: 'residual', uprn, collectionDate: due, locatedBy: 'uprn', source: 'test', requestedAt: new Date(at) })).report

test('is one of the core jobs, hourly', () => {
  expect(CORE_JOBS).toContain(outcomesJob)
  expect(outcomesJob.schedule).toBe('10 * * * *')
})

test('assesses a pending report, and closes it with notes once the return visit has emptied the bin', async () => {
  const due = '2026-03-16'
  await schedule(db, due)
  await lifts(db, [{ at: '2026-03-16T08:00:00Z', household: 0 }, { at: '2026-03-16T12:00:00Z', household: 4 }])
  const report = await fileWithoutAssessor(UPRNS[1], due, '2026-03-16T18:00:00Z')
  const first = await run('2026-03-16T19:10:00Z')
  expect(first).toMatchObject({ assessed: 1, recent: { decided: 5 }, reportsClosed: 0 })
  expect(await getReport(db, report.id)).toMatchObject({ validity: 'valid', status: 'open', expectedDatetime: new Date('2026-03-17T17:00:00Z') })
  expect(await outcomeOf(UPRNS[1], due)).toBe('missed')

  await lifts(db, [{ at: '2026-03-17T10:00:00Z', household: 1 }])
  const second = await run('2026-03-17T11:10:00Z')
  expect(second).toMatchObject({ assessed: 0, reportsClosed: 1 })
  expect(await outcomeOf(UPRNS[1], due)).toBe('rectified')
  const closed = (await getReport(db, report.id))!
  expect(closed).toMatchObject({ status: 'closed', statusNotes: `The bin was emptied on the return visit at 10:00 on Tue 17 Mar by ${REGISTRATION}.`, closedAt: new Date('2026-03-17T11:10:00Z') })
  const updates = await listReportUpdates(db, { from: new Date(0), to: new Date('2100-01-01') })
  expect(updates.filter((u) => u.reportId === report.id).sort((a, b) => a.updateId - b.updateId).map((u) => u.status)).toEqual(['open', 'open', 'closed'])
})

test('re-decides earlier days for late data, and re-judges a valid report that a late lift contradicts', async () => {
  const due = '2026-03-16'
  await schedule(db, due)
  await lifts(db, [{ at: '2026-03-16T08:00:00Z', household: 0 }, { at: '2026-03-16T12:00:00Z', household: 4 }])
  const report = await fileWithoutAssessor(UPRNS[3], due, '2026-03-16T18:00:00Z')
  await run('2026-03-16T19:10:00Z')
  expect(await outcomeOf(UPRNS[3], due)).toBe('missed')
  // Days later, the vehicle unit delivers a lift it had buffered: number 4 was emptied at 11:00 on the day.
  await lifts(db, [{ at: '2026-03-16T11:00:00Z', household: 3 }])
  const later = await run('2026-03-20T09:10:00Z') // the 16th is now an "earlier" day: only unsettled collections
  expect(later.earlier).toMatchObject({ decided: 3 }) // numbers 2, 3 and 4; 1 and 5 were settled as collected
  expect(await outcomeOf(UPRNS[3], due)).toBe('collected')
  expect(await getReport(db, report.id)).toMatchObject({
    validity: 'invalid', status: 'closed', invalidReason: `the collection records now show the bin was emptied at 11:00 on Mon 16 Mar by ${REGISTRATION}`,
  })
})

test('catches up on a day it never classified (the job was down), and leaves rounds still out alone', async () => {
  await schedule(db, '2026-03-16')
  await schedule(db, '2026-03-20')
  await lifts(db, [{ at: '2026-03-16T08:00:00Z', household: 0 }, { at: '2026-03-20T08:00:00Z', household: 0 }])
  const r = await run('2026-03-20T11:10:00Z') // Friday morning: the 16th was never classified; Friday's round is still out
  expect(r.earlier).toMatchObject({ decided: 5 })
  expect(r.recent).toMatchObject({ decided: 0 })
  expect(await outcomeOf(UPRNS[0], '2026-03-16')).toBe('collected')
  expect(await outcomeOf(UPRNS[0], '2026-03-20')).toBeUndefined()
  expect((await run('2026-03-20T15:10:00Z')).recent).toMatchObject({ decided: 5 }) // after the planned end (15:00)
})

test('runs once per hour through the scheduler: a second start in the same hour is skipped', async () => {
  const scheduler = startScheduler({ db, logger: silentLogger, registry: new Registry(), timezone: 'Europe/London', jobs: [outcomesJob], autostart: false })
  try {
    const now = new Date('2026-03-16T19:10:00Z')
    expect((await scheduler.runNow('outcomes', now)).status).toBe('done')
    expect((await scheduler.runNow('outcomes', new Date('2026-03-16T19:40:00Z'))).status).toBe('skipped')
    expect((await scheduler.runNow('outcomes', new Date('2026-03-16T20:10:00Z'))).status).toBe('done')
  } finally {
    scheduler.stop()
  }
})
