// The collection calendar: scheduled_collections rows (household, stream, round, day) generated
// ahead from the round rules. Set-based: one statement per batch of rounds expands rounds × days ×
// households in SQL; only the day-level rules (bank holidays, overrides) are computed here, once
// per day of the range, and joined in. Idempotent, and it never touches rows due today or earlier:
// those carry what happened.
import type { Database } from '../../storage/database.ts'
import { bankHolidaysBetween } from './bank-holidays.ts'
import { addDays, daysBetween, eachDay, isIsoDate, localDate, type IsoDate } from './dates.ts'
import { overridesBetween } from './overrides.ts'
import { dueDay } from './rules.ts'

export interface CalendarRange {
  from: IsoDate
  to: IsoDate
  /** The council's today (default: today in Europe/London). Rows due on or before it are history and left alone. */
  today?: IsoDate
  /** Only these rounds (after an import that touched them); default every round. */
  rounds?: readonly string[]
}

export interface CalendarReport {
  from: IsoDate
  to: IsoDate
  today: IsoDate
  rounds: number
  /** Collections the rules give for the range (rows new, changed and unchanged). */
  collections: number
  inserted: number
  updated: number
  /** Future rows no longer valid (household left the round, round changed or stopped). */
  removed: number
  ms: number
}

export class CalendarRangeError extends Error {
  override name = 'KERBSIDE_ERR_CALENDAR_RANGE'
}
export class CalendarBusyError extends Error {
  override name = 'KERBSIDE_ERR_CALENDAR_BUSY'
}

/** The longest range one call may generate. */
export const MAX_CALENDAR_DAYS = 400
/** Stops per statement: big enough to be set-based, small enough that ingest is not held up for long on the embedded database. */
const STOPS_PER_BATCH = 20_000

// $1 from, $2 to, $3 today, $4..$6 the days whose due day differs from the scheduled one, $7 round ids.
const GENERATE_SQL = `
WITH days AS (
  SELECT d::date AS scheduled_date,
         COALESCE(x.due_date, d::date) AS due_date,
         COALESCE(x.cancelled, false) AS cancelled
    FROM generate_series($1::date, $2::date, interval '1 day') AS d
    LEFT JOIN unnest($4::date[], $5::date[], $6::boolean[]) AS x (scheduled_date, due_date, cancelled)
           ON x.scheduled_date = d::date
),
runs AS (
  -- Days each round runs: its weekday, every week or every 14 days from its anchor, within its contract.
  SELECT r.round_id, r.stream, r.subscription, days.scheduled_date, days.due_date, days.cancelled
    FROM rounds r
    JOIN contracts c ON c.contract_id = r.contract_id
    JOIN days ON extract(isodow FROM days.scheduled_date) = r.weekday
             AND (r.frequency = 'weekly' OR (days.scheduled_date - r.anchor_date) % 14 = 0)
   WHERE r.round_id = ANY($7::text[]) AND r.active
     AND days.scheduled_date >= c.starts_on
     AND (c.ends_on IS NULL OR days.scheduled_date <= c.ends_on)
),
wanted AS MATERIALIZED (
  -- A household on two rounds of one stream on one day is collected once (by the first round id).
  SELECT DISTINCT ON (rh.uprn, runs.stream, runs.scheduled_date)
         rh.uprn, runs.stream, runs.round_id, runs.scheduled_date, runs.due_date, runs.cancelled
    FROM runs
    JOIN round_households rh ON rh.round_id = runs.round_id
   WHERE NOT runs.subscription
      OR EXISTS (SELECT 1 FROM subscriptions s
                  WHERE s.uprn = rh.uprn AND s.stream = runs.stream
                    AND s.starts_on <= runs.scheduled_date
                    AND (s.ends_on IS NULL OR s.ends_on >= runs.scheduled_date))
   ORDER BY rh.uprn, runs.stream, runs.scheduled_date, runs.round_id
),
current AS MATERIALIZED (
  -- What is scheduled already for these rounds in the range: a range scan of the (round_id,
  -- due_date) index, however much history the table holds. Due days lie within a month of their
  -- scheduled day (bank-holiday slips are days; overrides move Christmas collections by a week or
  -- two); a row outside that window is still updated through ON CONFLICT below.
  SELECT collection_id, uprn, stream, round_id, scheduled_date, due_date, cancelled
    FROM scheduled_collections
   WHERE round_id = ANY($7::text[])
     AND due_date BETWEEN $1::date - 31 AND $2::date + 31
     AND scheduled_date BETWEEN $1::date AND $2::date
),
changed AS (
  -- Wanted rows not already there as they are: on a repeat run only the new days, so the run
  -- writes (and locks) almost nothing.
  SELECT w.* FROM wanted w
   WHERE NOT EXISTS (SELECT 1 FROM current c
                      WHERE c.uprn = w.uprn AND c.stream = w.stream AND c.scheduled_date = w.scheduled_date
                        AND c.round_id = w.round_id AND c.due_date = w.due_date AND c.cancelled = w.cancelled)
),
removed AS (
  -- Future rows of these rounds that the rules no longer give, deleted by id (usually none). Their
  -- keys are not in \`wanted\`, so this DELETE and the INSERT below never touch the same row.
  DELETE FROM scheduled_collections sc
   WHERE sc.collection_id = ANY (ARRAY(
     SELECT c.collection_id FROM current c
      WHERE c.scheduled_date > $3::date AND c.due_date > $3::date
        AND NOT EXISTS (SELECT 1 FROM wanted w
                         WHERE w.uprn = c.uprn AND w.stream = c.stream AND w.scheduled_date = c.scheduled_date)))
  RETURNING 1
),
written AS (
  INSERT INTO scheduled_collections (uprn, stream, round_id, scheduled_date, due_date, cancelled)
  SELECT uprn, stream, round_id, scheduled_date, due_date, cancelled FROM changed
  -- A row of another round (the household moved here) is taken over; rows due today or earlier are history.
  ON CONFLICT (uprn, stream, scheduled_date) DO UPDATE
     SET round_id = EXCLUDED.round_id, due_date = EXCLUDED.due_date, cancelled = EXCLUDED.cancelled, generated_at = now()
   WHERE scheduled_collections.scheduled_date > $3::date AND scheduled_collections.due_date > $3::date
     AND (scheduled_collections.round_id, scheduled_collections.due_date, scheduled_collections.cancelled)
         IS DISTINCT FROM (EXCLUDED.round_id, EXCLUDED.due_date, EXCLUDED.cancelled)
  RETURNING (xmax = 0) AS inserted
)
SELECT (SELECT count(*) FROM wanted)::int AS collections,
       (SELECT count(*) FROM removed)::int AS removed,
       count(*) FILTER (WHERE inserted)::int AS inserted,
       count(*) FILTER (WHERE NOT inserted)::int AS updated
  FROM written`

/** Group rounds into batches of about STOPS_PER_BATCH stops (a big round is a batch of its own). */
function batchRounds(rounds: { roundId: string; stops: number }[]): string[][] {
  const batches: string[][] = []
  let current: string[] = []
  let size = 0
  for (const r of rounds) {
    if (current.length > 0 && size + r.stops > STOPS_PER_BATCH) {
      batches.push(current)
      current = []
      size = 0
    }
    current.push(r.roundId)
    size += r.stops
  }
  if (current.length > 0) batches.push(current)
  return batches
}

/** Days of the range whose due day is not the scheduled day (bank-holiday weeks, overrides). */
async function dayExceptions(db: Database, from: IsoDate, to: IsoDate) {
  // A bank holiday early in a week moves collections up to six days later in that week.
  const holidays = bankHolidaysBetween(addDays(from, -6), to)
  const overrides = await overridesBetween(db, from, to)
  const out = { scheduled: [] as IsoDate[], due: [] as IsoDate[], cancelled: [] as boolean[] }
  for (const day of eachDay(from, to)) {
    const d = dueDay(day, holidays, overrides)
    if (d.reason === 'scheduled') continue
    out.scheduled.push(day)
    out.due.push(d.dueDate)
    out.cancelled.push(d.cancelled)
  }
  return out
}

/**
 * Generate (or bring up to date) the calendar from `from` to `to` for every round and its households.
 * Runs under the 'calendar' lock, waiting for a run already in progress (the daily job, an import).
 */
export async function generateCalendar(db: Database, range: CalendarRange): Promise<CalendarReport> {
  const { from, to } = range
  const today = range.today ?? localDate(new Date())
  for (const [name, v] of [['from', from], ['to', to], ['today', today]] as const) {
    if (!isIsoDate(v)) throw new CalendarRangeError(`${name} must be a calendar day written YYYY-MM-DD, got ${JSON.stringify(v)}`)
  }
  const span = daysBetween(from, to)
  if (span < 0) throw new CalendarRangeError(`to (${to}) is before from (${from})`)
  if (span >= MAX_CALENDAR_DAYS) throw new CalendarRangeError(`a calendar range may span at most ${MAX_CALENDAR_DAYS} days; ${from}..${to} spans ${span + 1}`)

  const t0 = performance.now()
  const run = async (): Promise<CalendarReport> => {
    const ex = await dayExceptions(db, from, to)
    const { rows: rounds } = await db.query<{ roundId: string; stops: number }>(
      `SELECT r.round_id AS "roundId", count(rh.uprn)::int AS stops
         FROM rounds r LEFT JOIN round_households rh ON rh.round_id = r.round_id
        WHERE $1::text[] IS NULL OR r.round_id = ANY($1::text[])
        GROUP BY r.round_id ORDER BY r.round_id`,
      [range.rounds ?? null],
    )
    const report: CalendarReport = { from, to, today, rounds: rounds.length, collections: 0, inserted: 0, updated: 0, removed: 0, ms: 0 }
    for (const batch of batchRounds(rounds)) {
      const r = await db.transaction(async (tx) => {
        // Room to sort a batch in memory (the default 4 MB spills a 20,000-stop batch to disk).
        await tx.query(`SET LOCAL work_mem = '64MB'`)
        const { rows } = await tx.query<{ collections: number; removed: number; inserted: number; updated: number }>(
          GENERATE_SQL,
          [from, to, today, ex.scheduled, ex.due, ex.cancelled, batch],
        )
        return rows[0]!
      })
      report.collections += r.collections
      report.removed += r.removed
      report.inserted += r.inserted
      report.updated += r.updated
    }
    report.ms = Math.round(performance.now() - t0)
    return report
  }

  // Two runs at once would do the same work twice and could deadlock on a server: wait our turn.
  const deadline = Date.now() + 10 * 60_000
  for (;;) {
    const outcome = await db.withLock('calendar', run)
    if (outcome.ran) return outcome.value
    if (Date.now() > deadline) throw new CalendarBusyError('another calendar run has held the lock for over 10 minutes')
    await new Promise((r) => setTimeout(r, 200))
  }
}
