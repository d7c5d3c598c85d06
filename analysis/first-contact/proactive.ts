// What proactive miss detection (analysis/proactive) already knew about the collection a resident
// calls about, as it stood at the time of the check: the answer says the miss is known and when the
// return is due, and the timeline shows when it was found, confirmed, withdrawn or put right.
import type { Queryable } from '../../storage/database.ts'
import { dayTime } from './advice.ts'
import type { ProactiveKnown, TimelineEntry } from './schema.ts'

export interface Known {
  status: ProactiveKnown['status']
  confidence: number
  basis: string
  raisedAt: Date
  confirmedAt: Date | null
  returnDue: Date | null
  withdrawnAt: Date | null
  withdrawnReason: string | null
  resolvedAt: Date | null
}

/** The proactive record of a collection as it stood at `asOf` (changes after it are not shown). */
export async function proactiveFor(db: Queryable, collectionId: number, asOf: Date): Promise<Known | null> {
  const { rows } = await db.query<Known>(
    `SELECT status, confidence, basis, raised_at AS "raisedAt", confirmed_at AS "confirmedAt", return_due AS "returnDue",
            withdrawn_at AS "withdrawnAt", withdrawn_reason AS "withdrawnReason", resolved_at AS "resolvedAt"
       FROM proactive_misses WHERE collection_id = $1 AND raised_at <= $2::timestamptz`,
    [collectionId, asOf],
  )
  const k = rows[0]
  if (!k) return null
  const by = (d: Date | null) => (d && d.getTime() <= asOf.getTime() ? d : null)
  // Seen as it stood at asOf: later confirmation, withdrawal or resolution not yet known.
  const confirmedAt = by(k.confirmedAt)
  const withdrawnAt = by(k.withdrawnAt)
  const resolvedAt = by(k.resolvedAt)
  const status: Known['status'] = withdrawnAt ? 'withdrawn' : resolvedAt ? 'resolved' : confirmedAt ? 'confirmed' : 'suspected'
  return { ...k, status, confirmedAt, returnDue: confirmedAt ? k.returnDue : null, withdrawnAt, withdrawnReason: withdrawnAt ? k.withdrawnReason : null, resolvedAt }
}

export const knownOut = (k: Known): ProactiveKnown => ({
  status: k.status, confidence: k.confidence, basis: k.basis, raisedAt: k.raisedAt.toISOString(), confirmedAt: k.confirmedAt?.toISOString() ?? null,
  returnDue: k.returnDue?.toISOString() ?? null, withdrawnAt: k.withdrawnAt?.toISOString() ?? null, withdrawnReason: k.withdrawnReason, resolvedAt: k.resolvedAt?.toISOString() ?? null,
})

const BASIS: Record<string, string> = {
  round_not_reached: 'the round ended before reaching the property',
  section_skipped: 'the crew left out this part of the street',
  passed_by: 'the crew passed the bin with nothing logged',
}

export function withProactive(timeline: TimelineEntry[], k: Known | null): TimelineEntry[] {
  if (!k) return timeline
  const add: TimelineEntry[] = [{ at: k.raisedAt.toISOString(), kind: 'miss_detected', summary: `Possible miss found before any report: ${BASIS[k.basis] ?? k.basis} (confidence ${Math.round(k.confidence * 100)}%)` }]
  if (k.confirmedAt) add.push({ at: k.confirmedAt.toISOString(), kind: 'miss_detected', summary: `Miss confirmed; return visit booked${k.returnDue ? ` by ${dayTime(k.returnDue)}` : ''}` })
  if (k.withdrawnAt) add.push({ at: k.withdrawnAt.toISOString(), kind: 'miss_detected', summary: `Possible miss withdrawn: ${k.withdrawnReason ?? 'later evidence'}` })
  if (k.resolvedAt) add.push({ at: k.resolvedAt.toISOString(), kind: 'miss_detected', summary: 'Miss put right: the bin was emptied on the return visit' })
  return [...timeline, ...add].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
}
