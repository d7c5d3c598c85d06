// Updates other systems post about a missed-bin report (FixMyStreet's POST servicerequestupdates:
// a resident's comment relayed by FixMyStreet, or a CRM's status change). Kerbside keeps what it
// acts on: the status, when, and which update of the sender's it was. The words, names and email
// stay in the system that sent them (data minimisation), so the update feed and the subject-access
// export never carry them. A closing status closes the report (and so tells the CRM, as any close
// does); an open status on a closed report is recorded but does not reopen it: another missed
// collection is a new report.
import type { Database } from './database.ts'
import { closeReport, getReport } from './reports.ts'

export interface PostedUpdate {
  reportId: number
  status: 'open' | 'closed'
  /** The sender's own id of the update (FixMyStreet's update_id_ext): a repeat is the same update. */
  senderRef: string
  /** Who sent it (the API key's name), for the note. */
  sender: string
  at?: Date
}

/** The note an update leaves: enough to recognise a repeat, nothing a resident wrote. */
const noteOf = (u: PostedUpdate) => `Update ${u.senderRef.slice(0, 64)} from ${u.sender.slice(0, 64)}: ${u.status}.`

/** Record an update; null when the report does not exist. A repeat answers the first update's id. */
export async function recordPostedUpdate(db: Database, u: PostedUpdate): Promise<{ updateId: number; created: boolean } | null> {
  const report = await getReport(db, u.reportId)
  if (!report) return null
  const note = noteOf(u)
  const find = async () => (await db.query<{ id: number }>(
    'SELECT update_id AS id FROM report_updates WHERE report_id = $1 AND notes = $2 ORDER BY update_id LIMIT 1', [u.reportId, note],
  )).rows[0]?.id
  const seen = await find()
  if (seen !== undefined) return { updateId: Number(seen), created: false }
  if (u.status === 'closed' && report.status !== 'closed') {
    await closeReport(db, u.reportId, note, { at: u.at })
  } else {
    await db.query('INSERT INTO report_updates (report_id, status, notes, at) VALUES ($1, $2, $3, COALESCE($4::timestamptz, now()))', [u.reportId, report.status, note, u.at ?? null])
  }
  const id = await find()
  return id === undefined ? null : { updateId: Number(id), created: true }
}
