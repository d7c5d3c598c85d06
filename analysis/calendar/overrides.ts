// Council overrides of the calendar (calendar_overrides): collections scheduled on `originalDate`
// move to `movedTo`, or are cancelled when it is null. They take precedence over the bank-holiday
// rule (see rules.ts); councils use them for Christmas and New Year weeks.
import type { Queryable } from '../../storage/database.ts'
import type { IsoDate } from './dates.ts'
import type { CalendarOverrides } from './rules.ts'

export interface CalendarOverride {
  originalDate: IsoDate
  movedTo: IsoDate | null
  reason: string | null
}

export async function listOverrides(db: Queryable, range: { from?: IsoDate; to?: IsoDate } = {}): Promise<CalendarOverride[]> {
  const { rows } = await db.query<CalendarOverride>(
    `SELECT original_date AS "originalDate", moved_to AS "movedTo", reason FROM calendar_overrides
      WHERE ($1::date IS NULL OR original_date >= $1::date) AND ($2::date IS NULL OR original_date <= $2::date)
      ORDER BY original_date`,
    [range.from ?? null, range.to ?? null],
  )
  return rows
}

/** The overrides of a range as the rules take them. */
export async function overridesBetween(db: Queryable, from: IsoDate, to: IsoDate): Promise<CalendarOverrides> {
  return new Map((await listOverrides(db, { from, to })).map((o) => [o.originalDate, o.movedTo]))
}

export async function putOverride(db: Queryable, o: CalendarOverride): Promise<void> {
  await db.query(
    `INSERT INTO calendar_overrides (original_date, moved_to, reason) VALUES ($1, $2, $3)
     ON CONFLICT (original_date) DO UPDATE SET moved_to = EXCLUDED.moved_to, reason = EXCLUDED.reason`,
    [o.originalDate, o.movedTo, o.reason],
  )
}

export async function deleteOverride(db: Queryable, originalDate: IsoDate): Promise<boolean> {
  return (await db.query(`DELETE FROM calendar_overrides WHERE original_date = $1`, [originalDate])).rowCount > 0
}
