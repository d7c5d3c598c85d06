// Erasure of a household's personal data on request (UK GDPR Art. 17), without breaking aggregates
// and KPIs: what identifies or describes a person goes; what describes the property and the service
// it received (reports, readings, lifts, outcomes, reward entries) stays, so every count is unchanged.
// One transaction; an erasure record keeps who, when and how many items of each category, never
// the erased content.
import type { ErasureCategory, ErasureRecord, ErasureResult } from '../../core/contract/privacy.ts'
import type { Database, Queryable } from '../database.ts'
import { eraseReportContacts } from '../reports.ts'

export interface ErasureRequest {
  uprn: number
  actor: { actor: string; actorName: string; role: string }
  /** The council's case reference of the request: no personal data. */
  requestRef?: string | null
  /** Also end the assisted-collection flag (it implies a resident's health or mobility). */
  includeAssistedCollection?: boolean
  /** The requester's own email or phone: their details on reports about other properties go too. */
  contact?: { email?: string; phone?: string }
}

export class ErasureError extends Error {
  override name = 'KERBSIDE_ERR_ERASURE'
}

const SELECT_RECORD = `SELECT erasure_id AS "erasureId", at, uprn, actor, actor_name AS "actorName", role, request_ref AS "requestRef", erased FROM erasure_records`

export const KEPT = [
  'The household\'s address, location and ward, its bins and the collection calendar: property data the council needs to collect its waste.',
  'Sensor readings, lifts and collection outcomes: the record of the service at the property and the evidence behind the contract\'s KPIs, deleted by the retention periods.',
  'The missed-bin reports themselves (stream, date, verdict, status), without who made them or what they wrote: they count in the contractor\'s KPIs.',
  'Reward ledger entries: points earned by the property, an append-only financial record.',
  'The audit log of who read the record, and this erasure record: the council\'s accountability (UK GDPR Art. 5(2)).',
]

export const NOTES = [
  'The CRM reference and the assisted-collection flag come from the council\'s registry: if the registry still holds them, the next registry import brings them back. Erase them at the source too.',
  'Backups taken before now still hold the erased data: after restoring one, apply again the erasures recorded since (GET /api/v1/privacy/erasures).',
  'Events already delivered to the council\'s CRM are in the CRM: erase them there.',
]

const digits = (s: string) => s.replace(/\D/g, '')

/** Erase, in one transaction; null when Kerbside has no such household. */
export async function eraseHousehold(db: Database, req: ErasureRequest): Promise<ErasureResult | null> {
  if (req.contact?.phone !== undefined && digits(req.contact.phone).length < 6) throw new ErasureError('A phone number to match needs at least six digits.')
  const record = await db.transaction(async (tx) => {
    const { rowCount: known } = await tx.query(`SELECT 1 FROM households WHERE uprn = $1 FOR UPDATE`, [req.uprn])
    if (known === 0) return null
    const erased: Partial<Record<ErasureCategory, number>> = {}
    erased.reportContacts = await eraseReportContacts(tx, { uprn: req.uprn })
    if (req.contact?.email || req.contact?.phone) {
      const { rowCount } = await tx.query(
        `DELETE FROM report_contacts WHERE ($1::text IS NOT NULL AND lower(email) = lower($1)) OR ($2::text IS NOT NULL AND regexp_replace(phone, '\\D', '', 'g') = $2)`,
        [req.contact.email ?? null, req.contact.phone ? digits(req.contact.phone) : null])
      erased.contactsOnOtherReports = rowCount
    }
    erased.reportFreeText = (await tx.query(
      `UPDATE missed_reports SET description = NULL, bin_location_note = NULL, media_url = NULL
        WHERE uprn = $1 AND (description IS NOT NULL OR bin_location_note IS NOT NULL OR media_url IS NOT NULL)`, [req.uprn])).rowCount
    erased.crmReference = (await tx.query(`UPDATE households SET crm_ref = NULL, updated_at = now() WHERE uprn = $1 AND crm_ref IS NOT NULL`, [req.uprn])).rowCount
    if ((await tx.query<{ ok: boolean }>(`SELECT to_regclass('crm_outbox') IS NOT NULL AS ok`)).rows[0]?.ok) {
      erased.crmEventReferences = (await tx.query(`UPDATE crm_outbox SET crm_ref = NULL WHERE uprn = $1 AND crm_ref IS NOT NULL`, [req.uprn])).rowCount
    }
    if (req.includeAssistedCollection) {
      erased.assistedCollection = (await tx.query(`UPDATE households SET assisted = false, updated_at = now() WHERE uprn = $1 AND assisted`, [req.uprn])).rowCount
    }
    const { rows } = await tx.query<ErasureRecord>(
      `INSERT INTO erasure_records (uprn, actor, actor_name, role, request_ref, erased) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING erasure_id AS "erasureId", at, uprn, actor, actor_name AS "actorName", role, request_ref AS "requestRef", erased`,
      [req.uprn, req.actor.actor, req.actor.actorName, req.actor.role, req.requestRef ?? null, JSON.stringify(erased)])
    return rows[0]!
  })
  return record ? { record, kept: KEPT, notes: NOTES } : null
}

export async function erasureRecords(db: Queryable, f: { uprn?: number; limit: number; offset: number }): Promise<ErasureRecord[]> {
  const { rows } = await db.query<ErasureRecord>(`${SELECT_RECORD} WHERE ($1::bigint IS NULL OR uprn = $1) ORDER BY at, erasure_id LIMIT $2 OFFSET $3`, [f.uprn ?? null, f.limit, f.offset])
  return rows
}
