// The audit log: who read or erased which personal data (see migrations 045 and 093). `uprn` when a
// read was about one household; `subject` says what else it was about (a round, a device, a
// registry entity); `rows` how many rows of personal data it gave out.
import type { Queryable } from './database.ts'

export interface AuditEntry {
  id: number; at: Date; actor: string; actorName: string; role: string; action: string; uprn: number | null; status: number; ip: string | null
  subject: string | null; rows: number | null
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at' | 'subject' | 'rows'> & { subject?: string | null; rows?: number | null }

export async function recordAudit(db: Queryable, e: NewAuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (actor, actor_name, role, action, uprn, status, ip, subject, row_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [e.actor, e.actorName, e.role, e.action, e.uprn, e.status, e.ip, e.subject ?? null, e.rows ?? null],
  )
}

export async function auditEntries(db: Queryable, f: { uprn?: number; from: Date; to: Date; limit: number; offset: number }): Promise<AuditEntry[]> {
  const { rows } = await db.query<AuditEntry>(
    `SELECT id, at, actor, actor_name AS "actorName", role, action, uprn, status, ip, subject, row_count AS rows FROM audit_log
      WHERE ($1::bigint IS NULL OR uprn = $1) AND at >= $2 AND at < $3 ORDER BY at DESC, id DESC LIMIT $4 OFFSET $5`,
    [f.uprn ?? null, f.from.toISOString(), f.to.toISOString(), f.limit, f.offset],
  )
  return rows
}
