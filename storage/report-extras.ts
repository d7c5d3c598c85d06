// What FixMyStreet's additional request attributes need beyond the report itself (api/routes/open311/
// representation.ts, sent to keys whose open311_extended setting is on): how many updates followed
// the filing, and the name of the client system (API key) that filed it.
import type { Queryable } from './database.ts'

export interface ReportExtras {
  /** Updates after the filing (report_updates holds the filing itself as its first row). */
  updateCount: number
  /** The filing key's name; its id when the key is gone; 'bootstrap' for the admin key. */
  filedBy: string
}

export async function reportExtras(db: Queryable, reportIds: number[]): Promise<Map<number, ReportExtras>> {
  if (reportIds.length === 0) return new Map()
  const { rows } = await db.query<{ id: number; updates: number; filedBy: string }>(
    `SELECT r.report_id AS id, (SELECT count(*) FROM report_updates u WHERE u.report_id = r.report_id)::int AS updates,
            COALESCE(k.name, r.source) AS "filedBy"
       FROM missed_reports r LEFT JOIN api_keys k ON k.key_id = r.source
      WHERE r.report_id = ANY($1::bigint[])`,
    [reportIds],
  )
  return new Map(rows.map((r) => [Number(r.id), { updateCount: Math.max(0, Number(r.updates) - 1), filedBy: r.filedBy }]))
}
