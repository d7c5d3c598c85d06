// One-off: tell the CRM of the misses decided before the outcome analysis wrote collection.missed_confirmed
// itself (until then only proactive detection did). A job rather than a migration so that the events go
// through the outbox's one writer (schema check, ordering lock, idempotency keys) like every other.
// Its period never changes, so once it is done the scheduler skips it; a failed or interrupted run is
// simply run again at the next start or tick, and writes only the events still missing (the keys).
import type { Database } from '../../storage/database.ts'
import { addDays, type IsoDate } from '../calendar/dates.ts'
import type { JobDefinition } from '../scheduler.ts'
import { emitMissEvents, type MissEventCounts } from './crm-misses.ts'

/** Due days per transaction: a month of misses of a large city is a few thousand events. */
const DAYS_PER_TRANSACTION = 31

/** Write the missing miss events (and withdrawals) of every collection decided between the first and last due days on record. */
export async function backfillMissEvents(db: Database, now: Date, onProgress?: (done: { from: IsoDate; to: IsoDate } & MissEventCounts) => void): Promise<MissEventCounts & { days: number }> {
  const { rows } = await db.query<{ first: string | null; last: string | null }>(`SELECT min(due_date) AS first, max(due_date) AS last FROM collection_outcomes`)
  const { first, last } = rows[0] ?? { first: null, last: null }
  const total = { confirmed: 0, withdrawn: 0, days: 0 }
  if (!first || !last) return total
  for (let from = first; from <= last; from = addDays(from, DAYS_PER_TRANSACTION)) {
    const end = addDays(from, DAYS_PER_TRANSACTION - 1)
    const to = end < last ? end : last
    const n = await db.transaction((tx) => emitMissEvents(tx, { from, to, now, settled: 'all' }))
    total.confirmed += n.confirmed
    total.withdrawn += n.withdrawn
    onProgress?.({ from, to, ...n })
  }
  total.days = Math.round((Date.parse(last) - Date.parse(first)) / 86_400_000) + 1
  return total
}

export const crmMissBackfillJob: JobDefinition = {
  name: 'crm-miss-backfill',
  // Runs at start; the daily tick only retries a run that failed (the period is fixed: done once).
  schedule: '45 4 * * *',
  runAtStart: true,
  period: () => 'v1',
  async run({ db, now }) {
    return { ...(await backfillMissEvents(db, now)) }
  },
}
