// The first-contact check: a resident says their bin was not emptied; what does the evidence say,
// and what should they be told? The verdict, first that holds (docs/crm-integration.md, "The
// first-contact verdict", gives the same order):
//
//   1. not_scheduled             no collection of that stream at the address on the day asked about
//                                (or, with no day given, none due on or before today);
//   2. collected                 an accepted lift of the bin since the start of the due day. Evidence of
//                                a lift wins over everything after it: a bin emptied this morning is
//                                "emptied at 09:12", not "report it from 16:00", and never an invitation
//                                to report. A lift after the due day means the collection was missed
//                                first: the answer's `rectified` says so (rectified, rectified_late or
//                                collected_late, as the outcome rules would decide it) and the agent
//                                reads out that the miss was put right;
//   3. crew_exception            the crew logged an exception for it on the due day: the crew's own
//                                record settles it as a lift does;
//   4. round_in_progress         the collection is today, the crew has neither reached this household
//                                nor passed it (no lift further along the round), and the round is not
//                                over (before its planned end, or its vehicle lifted within
//                                ROUND_GRACE_MINUTES);
//   5. outside_reporting_window  nothing recorded, and the report comes before the window opens
//                                (too_early) or after it closes (too_late);
//   6. genuine_miss              none of these: a valid missed-bin report, with a return visit due by
//                                the rectification deadline (window.ts).
//
// Every verdict carries the household's next collection of the stream: the first due after the day in
// question and on or after today (the household summary's, except on the due day itself, when the
// summary still lists the collection asked about).
//
// The facts are the evidence the outcome rules read (analysis/outcomes/decide.ts) — the bin's lift
// events from the start of the due day until the next collection, those within MAX_LIFT_DISTANCE_M of
// the property accepted — as it stood at `at`, read for this one collection (a few index probes, so the
// check stays well inside the contact centre's time); the stored outcome is what the hourly
// classification decided.
import type { WasteStream } from '../../core/contract/domain.ts'
import type { CrewException } from '../../core/contract/messages.ts'
import type { Queryable } from '../../storage/database.ts'
import { MAX_CLAIM_DAYS, MAX_LIFT_DISTANCE_M, ROUND_GRACE_MINUTES } from '../outcomes/decide.ts'
import { addDays } from '../calendar/dates.ts'
import { clockMinutes, ukDate, ukDayEnd, ukInstant } from '../outcomes/local-time.ts'
import {
  STREAM_NAMES, dayName, timeOnDay,
  collectedAdvice, exceptionAdvice, inProgressAdvice, notScheduledAdvice, rectifiedAdvice, returnVisitAdvice, tooEarlyAdvice, tooLateAdvice,
  type Advice, type NextDue, type Rectified,
} from './advice.ts'
import {
  binEvents, collectionInQuestion, earlierReports, nearestPass, nextCollection, readingsAround, roundProgress,
  type BinEvent, type CollectionInQuestion, type EarlierReport, type Progress,
} from './lookup.ts'
import type { FirstContactAnswer, FirstContactVerdict } from './schema.ts'
import { buildTimeline } from './timeline.ts'
import { rectifyDeadline, reportWindow, windowSide, type ReportWindow } from './window.ts'
import { reasonFor } from './reasons.ts'
import { proactiveFor, withProactive, knownOut, type Known } from './proactive.ts'
import { openReportsNow } from './open-reports.ts'

export interface FirstContactInput {
  uprn: number
  stream: WasteStream
  /** The collection day the resident means; default the latest due on or before the day of `at`. */
  date?: string | null
  /** As the evidence stood at this instant; default now. */
  at?: Date
  /** A report being assessed is not one of the "earlier reports". */
  excludeReportId?: number
  /**
   * Take the household's other open reports of the stream into account (default true): a miss
   * reported earlier and not yet put right is still owed a return visit, whatever this collection's
   * verdict (open-reports.ts reads each report with this check, without this, so it does not recurse).
   */
  otherReports?: boolean
}

export class HouseholdNotFoundError extends Error {
  override name = 'KERBSIDE_ERR_HOUSEHOLD_NOT_FOUND'
}

const iso = (d: Date) => d.toISOString()

export async function firstContactCheck(db: Queryable, input: FirstContactInput): Promise<FirstContactAnswer> {
  const answer = await checkAsked(db, input)
  return input.otherReports === false ? answer : withOpenReports(db, input, answer)
}

/**
 * The verdict beside the household's open reports: when the verdict asks nothing more of the crew
 * (emptied, too late to report, not due …) but a miss of the stream, reported and confirmed — this
 * collection's, called about again after the window, or an earlier one's — has not been put right yet,
 * the return visit is still owed, and the agent says so (the household page shows that report beside
 * this verdict, open-reports.ts).
 */
async function withOpenReports(db: Queryable, input: FirstContactInput, answer: FirstContactAnswer): Promise<FirstContactAnswer> {
  if (answer.verdict === 'genuine_miss') return answer
  const owed = (await openReportsNow(db, input.uprn, new Date(answer.asOf), input.stream))
    .filter((r) => r.state === 'awaiting_return' && r.reportId !== input.excludeReportId)
  const r = owed[owed.length - 1] // the oldest still owed
  if (!r) return answer
  const about = r.collectionDate ? `the ${STREAM_NAMES[input.stream]} collection of ${dayName(r.collectionDate)}` : `your ${STREAM_NAMES[input.stream]} bin`
  const by = r.expectedDatetime ? ` by ${timeOnDay(r.expectedDatetime)}` : ''
  const note = `Your earlier report (#${r.reportId}) about ${about} is still open: the crew will come back to empty the bin${by}.`
  const action = answer.nextAction.action === 'none' || answer.nextAction.action === 'next_collection' ? 'return_visit' : answer.nextAction.action
  return {
    ...answer,
    nextAction: { action, tell: `${answer.nextAction.tell} ${note}`, deadline: action === 'return_visit' ? r.expectedDatetime?.toISOString() ?? null : answer.nextAction.deadline },
  }
}

async function checkAsked(db: Queryable, input: FirstContactInput): Promise<FirstContactAnswer> {
  const asOf = input.at ?? new Date()
  const today = ukDate(asOf)
  const asked = input.date ?? null
  const c = await collectionInQuestion(db, input.uprn, input.stream, asked, today)
  if (!c) throw new HouseholdNotFoundError(`UPRN ${input.uprn} is not a property on the collection register.`)
  const reports = await earlierReports(db, input.uprn, input.stream, asOf, input.excludeReportId ?? null)
  const base = {
    uprn: c.uprn, stream: input.stream, address: c.postcode ? `${c.address}, ${c.postcode}` : c.address, asOf: iso(asOf),
    previousReports: reports.map((r) => ({ id: r.id, at: iso(r.at), collectionDate: r.collectionDate, validity: r.validity, status: r.status })),
  }
  /** The first collection due on or after `day`. */
  const nextFrom = async (day: string): Promise<NextDue | null> => {
    const n = await nextCollection(db, input.uprn, input.stream, addDays(day, -1))
    return n ? { date: n.dueDate, startsAt: ukInstant(n.dueDate, clockMinutes(n.startsAt)) } : null
  }

  if (c.collectionId === null) {
    const next = await nextFrom(asked && asked > today ? asked : today)
    const advice = notScheduledAdvice(input.stream, asked, next)
    return {
      ...base, verdict: 'not_scheduled', valid: false, windowSide: null, reason: reasonFor({ verdict: 'not_scheduled', stream: input.stream, asked }),
      collection: null, window: null, collected: null, exception: null, progress: null, nextCollection: next?.date ?? null,
      timeline: buildTimeline({ reports }), nextAction: adviceOut(advice),
    }
  }
  return checkCollection(db, input, c as ScheduledCollection, asOf, today, { base, reports, nextFrom })
}

/** Fields that stay nullable once a collection was found (the rest come with it). */
type MayBeNull = 'position' | 'vehicleId' | 'registration' | 'lat' | 'lon' | 'postcode' | 'storedOutcome' | 'nextDue' | 'nextStartsAt'
type ScheduledCollection = { [K in keyof CollectionInQuestion]: K extends MayBeNull ? CollectionInQuestion[K] : NonNullable<CollectionInQuestion[K]> }

async function checkCollection(
  db: Queryable, input: FirstContactInput, c: ScheduledCollection, asOf: Date, today: string,
  ctx: { base: Pick<FirstContactAnswer, 'uprn' | 'stream' | 'address' | 'asOf' | 'previousReports'>; reports: EarlierReport[]; nextFrom: (day: string) => Promise<NextDue | null> },
): Promise<FirstContactAnswer> {
  const { base, reports, nextFrom } = ctx
  const due = c.dueDate
  const dayStart = ukInstant(due)
  const dayEnd = ukDayEnd(due)
  const claimEnd = ukInstant(c.nextDue && c.nextDue < addDays(due, MAX_CLAIM_DAYS) ? c.nextDue : addDays(due, MAX_CLAIM_DAYS))
  const events = await binEvents(db, { uprn: c.uprn, stream: input.stream, dayStart, dayEnd, claimEnd, asOf, lat: c.lat, lon: c.lon, maxDistanceM: MAX_LIFT_DISTANCE_M })
  const window = reportWindow(due, { reportOpensHour: c.reportOpensHour, reportWindowWorkingDays: c.reportWindowWorkingDays, rectifyWorkingDays: c.rectifyWorkingDays })
  const plannedStart = ukInstant(due, clockMinutes(c.startsAt))
  const plannedEnd = ukInstant(due, clockMinutes(c.endsAt))
  // As the outcome rules take them: the first lift emptying the bin, the last exception on the day.
  const lift = events.find((e) => e.accepted && e.outcome === 'collected') ?? null
  const exception = [...events].reverse().find((e) => e.accepted && e.onDueDay && e.outcome !== 'collected') ?? null
  const reachedToday = events.some((e) => e.accepted && e.onDueDay)

  // The round's progress, when the collection is today and the crew has not been to this bin yet.
  let progress: Progress | null = null
  if (today === due && !reachedToday && c.vehicleId) {
    progress = await roundProgress(db, { roundId: c.roundId, stream: input.stream, vehicleId: c.vehicleId, dayStart, asOf, position: c.position, lat: c.lat, lon: c.lon })
  }
  const passed = progress !== null && progress.maxPosition !== null && c.position !== null && progress.maxPosition > c.position
  const recentlyActive = progress?.lastLiftAt != null && asOf.getTime() - progress.lastLiftAt.getTime() < ROUND_GRACE_MINUTES * 60_000
  const inProgress = today === due && !reachedToday && !passed && (asOf.getTime() < plannedEnd.getTime() || recentlyActive)

  const side = windowSide(window, asOf)
  // The rules' order (file comment): evidence first, then the round, then the window.
  const verdict: FirstContactVerdict = lift ? 'collected'
    : exception ? 'crew_exception'
      : inProgress ? 'round_in_progress'
        : side !== 'open' ? 'outside_reporting_window'
          : 'genuine_miss'

  // The next collection after this one is known already; another is looked up when that one is past.
  const fromDay = addDays(due, 1) > today ? addDays(due, 1) : today
  const nextKnown = c.nextDue && c.nextStartsAt && c.nextDue >= fromDay ? { date: c.nextDue, startsAt: ukInstant(c.nextDue, clockMinutes(c.nextStartsAt)) } : null
  const next = nextKnown ?? await nextFrom(fromDay)
  // A miss already reported keeps the deadline its first valid report was given.
  const firstValid = [...reports].reverse().find((r) => r.validity === 'valid' && r.collectionDate === due && r.expectedDatetime)
  const existingDeadline = firstValid?.expectedDatetime ?? null
  // A miss found before anyone called keeps the return already booked for it (analysis/proactive).
  const known = await proactiveFor(db, c.collectionId, asOf)
  const booked = known?.status === 'confirmed' && known.returnDue ? known.returnDue : null
  const deadline = verdict === 'genuine_miss' ? existingDeadline ?? booked ?? rectifyDeadline(asOf, c.rectifyWorkingDays) : null
  const rectified = lift && !lift.onDueDay ? putRight(lift, due, reports, known) : null

  const advice = adviceFor({ verdict, side, input, due, window, lift, exception, progress, next, deadline, alreadyReported: existingDeadline !== null, alreadyKnown: booked !== null, rectified })
  const movedFrom = input.date && input.date !== due ? input.date : null
  return {
    ...base,
    verdict,
    valid: verdict === 'genuine_miss',
    windowSide: verdict === 'outside_reporting_window' && side !== 'open' ? side : null,
    reason: reasonFor({ verdict, stream: input.stream, asked: input.date ?? null, due, side, window, lift, exception, progress, rectified }),
    collection: {
      collectionId: c.collectionId, roundId: c.roundId, roundName: c.roundName, scheduledDate: c.scheduledDate, dueDate: due,
      plannedStart: iso(plannedStart), plannedEnd: iso(plannedEnd), outcome: c.storedOutcome, movedFrom,
    },
    window: { opensAt: iso(window.opensAt), closesAt: iso(window.closesAt) },
    collected: lift ? { at: iso(lift.ts), vehicleId: lift.vehicleId, registration: lift.registration, weightKg: lift.weightKg, distanceM: lift.distanceM, onDueDate: lift.onDueDay } : null,
    exception: exception ? { code: exception.outcome as CrewException, at: iso(exception.ts), vehicleId: exception.vehicleId, registration: exception.registration, distanceM: exception.distanceM } : null,
    progress: progress ? {
      vehicleId: c.vehicleId, registration: c.registration, liftsToday: progress.liftsToday, stopsBefore: passed ? 0 : progress.stopsBefore, passed, plannedEnd: iso(plannedEnd),
      lastLiftAt: progress.lastLiftAt ? iso(progress.lastLiftAt) : null,
      lastSeen: progress.lastSeen ? { ...progress.lastSeen, at: iso(progress.lastSeen.at) } : null,
    } : null,
    nextCollection: next?.date ?? null,
    rectified: rectified ? { outcome: rectified.outcome, reportedAt: rectified.reportedAt ? iso(rectified.reportedAt) : null, deadline: rectified.deadline ? iso(rectified.deadline) : null, returnedAt: iso(rectified.returnedAt) } : null,
    timeline: withProactive(await timelineFor(db, input, c, asOf, { due, plannedStart, window, events, movedFrom, reports }), known),
    ...(known ? { proactive: knownOut(known) } : {}),
    nextAction: adviceOut(advice),
  }
}

/**
 * A lift after the due day: the collection was missed first. As the outcome rules decide it — put
 * right after a valid report made before the lift (rectified, or rectified_late after its deadline),
 * or the crew came back unasked (collected_late; a return booked by proactive detection gives the deadline).
 */
function putRight(lift: BinEvent, due: string, reports: EarlierReport[], known: Known | null): Rectified {
  const report = [...reports].reverse().find((r) => r.validity === 'valid' && r.collectionDate === due && r.at.getTime() <= lift.ts.getTime())
  if (report) {
    const deadline = report.expectedDatetime
    return { outcome: !deadline || lift.ts.getTime() <= deadline.getTime() ? 'rectified' : 'rectified_late', reportedAt: report.at, deadline, returnedAt: lift.ts, registration: lift.registration }
  }
  const booked = known?.confirmedAt && known.confirmedAt.getTime() <= lift.ts.getTime() ? known.returnDue : null
  return { outcome: 'collected_late', reportedAt: null, deadline: booked, returnedAt: lift.ts, registration: lift.registration }
}

interface AdviceInput {
  verdict: FirstContactVerdict
  side: 'too_early' | 'open' | 'too_late'
  input: FirstContactInput
  due: string
  window: ReportWindow
  lift: BinEvent | null
  exception: BinEvent | null
  progress: Progress | null
  next: NextDue | null
  /** The return deadline, for a genuine miss. */
  deadline: Date | null
  alreadyReported: boolean
  alreadyKnown: boolean
  rectified: Rectified | null
}

function adviceFor(a: AdviceInput): Advice {
  switch (a.verdict) {
    case 'round_in_progress':
      return inProgressAdvice(a.window.opensAt, a.progress?.stopsBefore ?? null, a.progress?.lastSeen ?? null)
    case 'outside_reporting_window':
      return a.side === 'too_early' ? tooEarlyAdvice(a.due, a.window.opensAt, a.lift?.ts ?? null) : tooLateAdvice(a.window.closesAt, a.next)
    case 'collected':
      return a.rectified ? rectifiedAdvice(a.input.stream, a.due, a.rectified, a.next) : collectedAdvice(a.input.stream, a.lift!.ts, a.lift!.registration, a.lift!.distanceM, a.next)
    case 'crew_exception':
      return exceptionAdvice(a.exception!.outcome as CrewException, a.exception!.ts, a.next)
    case 'genuine_miss':
      return returnVisitAdvice(a.input.stream, a.due, a.deadline!, a.alreadyReported, a.alreadyKnown)
    case 'not_scheduled':
      return notScheduledAdvice(a.input.stream, a.input.date ?? null, a.next)
  }
}

const adviceOut = (a: Advice): FirstContactAnswer['nextAction'] => ({ action: a.action, tell: a.tell, deadline: a.deadline ? iso(a.deadline) : null })

async function timelineFor(
  db: Queryable, input: FirstContactInput, c: ScheduledCollection, asOf: Date,
  t: { due: string; plannedStart: Date; window: ReportWindow; events: BinEvent[]; movedFrom: string | null; reports: EarlierReport[] },
) {
  const dayEnd = ukDayEnd(t.due)
  const until = asOf.getTime() < dayEnd.getTime() ? asOf : dayEnd
  const pass = c.vehicleId && c.lat !== null && c.lon !== null && asOf.getTime() > t.plannedStart.getTime() - 3_600_000
    ? await nearestPass(db, c.vehicleId, c.lat, c.lon, ukInstant(t.due), until, MAX_LIFT_DISTANCE_M)
    : null
  const around = t.events.find((e) => e.accepted)?.ts
  const readings = c.hasSensor ? await readingsAround(db, input.uprn, input.stream, around ?? t.plannedStart, asOf) : []
  return buildTimeline({
    scheduled: { at: t.plannedStart, roundName: c.roundName, dueDate: t.due, movedFrom: t.movedFrom, stream: input.stream },
    window: t.window, pass: pass ? { ...pass, registration: c.registration } : null, events: t.events, readings, reports: t.reports,
  })
}
