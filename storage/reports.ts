// Missed-bin reports. The report holds no personal data; who reported it lives in report_contacts,
// erasable on request without touching the report (so KPIs stay whole); every status change or new
// note is appended to report_updates for CRMs that poll. Open311 is one way in (api/routes/open311);
// the collection-outcome analysis decides each report's validity and records it with setReportVerdict.
import type { WasteStream } from '../core/contract/domain.ts'
import { emitReportClosed } from './crm-outbox.ts'
import { type Database, type Queryable, lockKey } from './database.ts'

export const REPORT_STATUSES = ['open', 'closed'] as const
export type ReportStatus = (typeof REPORT_STATUSES)[number]
export const REPORT_VALIDITIES = ['pending', 'valid', 'invalid'] as const
export type ReportValidity = (typeof REPORT_VALIDITIES)[number]

/** An identical report from the same client within this window is the same report (a retry). */
export const DUPLICATE_WINDOW_MINUTES = 10
export const MAX_DESCRIPTION_CHARS = 1000
export const MAX_LOCATION_NOTE_CHARS = 200

export interface MissedReport {
  id: number
  serviceCode: string
  stream: WasteStream
  uprn: number
  /** Due date of the collection the report is about, when known. */
  collectionDate: string | null
  /** True when collectionDate came from the calendar rather than from the reporter. */
  collectionDateInferred: boolean
  locatedBy: 'uprn' | 'latlong'
  locatedDistanceM: number | null
  description: string | null
  binLocationNote: string | null
  mediaUrl: string | null
  agencyResponsible: string | null
  status: ReportStatus
  statusNotes: string | null
  serviceNotice: string | null
  expectedDatetime: Date | null
  validity: ReportValidity
  invalidReason: string | null
  verdict: unknown
  assessedAt: Date | null
  /** api_keys.key_id of the client that filed it ('bootstrap' for the admin key). */
  source: string
  requestedAt: Date
  updatedAt: Date
  closedAt: Date | null
  // The household, for display (Open311 address, zipcode, lat, long).
  address: string
  postcode: string | null
  lat: number | null
  lon: number | null
}

/** Personal data of the reporter: only what the report channel sent, kept apart, erasable. */
export interface ReportContact {
  firstName: string | null
  lastName: string | null
  email: string | null
  phone: string | null
  accountId: string | null
  deviceId: string | null
}

export interface NewReport {
  serviceCode: string
  stream: WasteStream
  uprn: number
  collectionDate?: string | null
  collectionDateInferred?: boolean
  locatedBy: 'uprn' | 'latlong'
  locatedDistanceM?: number | null
  /** Minimised before it is stored: see minimiseText. */
  description?: string | null
  binLocationNote?: string | null
  mediaUrl?: string | null
  agencyResponsible?: string | null
  serviceNotice?: string | null
  source: string
  idempotencyKey?: string | null
  /** When the report was made; now by default (imports and simulations pass their own time). */
  requestedAt?: Date
  contact?: Partial<ReportContact>
}

/** What the collection-outcome analysis decided about a report. */
export interface ReportAssessment {
  validity: ReportValidity
  /** Why; required when invalid (e.g. "the crew recorded the bin as not presented at 07:42"). */
  reason?: string
  statusNotes?: string
  /** When the return collection is due (valid misses). */
  expectedDatetime?: Date
  /** The evidence that decided it, kept as JSON. */
  verdict?: unknown
  /** Close the report now (e.g. an invalid report needs no further action). */
  close?: boolean
}

/** The seam to the collection-outcome analysis: called once a report is stored. */
export type AssessReport = (report: MissedReport) => Promise<ReportAssessment>

export class IdempotencyConflictError extends Error {
  override name = 'KERBSIDE_ERR_IDEMPOTENCY_CONFLICT'
}
export class ReportInputError extends Error {
  override name = 'KERBSIDE_ERR_REPORT_INPUT'
}

const SELECT_REPORT = `SELECT r.report_id AS id, r.service_code AS "serviceCode", r.stream, r.uprn, r.collection_date AS "collectionDate",
    r.collection_date_inferred AS "collectionDateInferred", r.located_by AS "locatedBy", r.located_distance_m AS "locatedDistanceM",
    r.description, r.bin_location_note AS "binLocationNote", r.media_url AS "mediaUrl", r.agency_responsible AS "agencyResponsible",
    r.status, r.status_notes AS "statusNotes", r.service_notice AS "serviceNotice", r.expected_datetime AS "expectedDatetime",
    r.validity, r.invalid_reason AS "invalidReason", r.verdict, r.assessed_at AS "assessedAt", r.source,
    r.requested_at AS "requestedAt", r.updated_at AS "updatedAt", r.closed_at AS "closedAt",
    h.address, h.postcode, h.lat, h.lon
  FROM missed_reports r JOIN households h ON h.uprn = r.uprn`

// Contact details a reporter might type into free text; the report does not need them.
const EMAIL_RE = /[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}/gi
const UK_PHONE_RE = /(?:\+44\s?(?:\(0\)\s?)?|\b0)\d(?:[\s-]?\d){8,9}\b/g
const CONTROL_RE = /[\u0000-\u0009\u000B-\u001F\u007F]/g

/**
 * Data minimisation for free text: markup and control characters removed, email addresses and UK
 * phone numbers replaced, whitespace collapsed, capped at `maxChars`. Null when nothing is left.
 */
export function minimiseText(text: string | null | undefined, maxChars: number): string | null {
  if (text == null) return null
  const cleaned = text
    .replace(/\r\n?/g, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(CONTROL_RE, ' ')
    .replace(EMAIL_RE, '[email removed]')
    .replace(UK_PHONE_RE, '[phone removed]')
    .replace(/[ \t]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
  if (cleaned === '') return null
  return cleaned.length <= maxChars ? cleaned : `${cleaned.slice(0, maxChars - 1).trimEnd()}…`
}

const hasContact = (c: Partial<ReportContact> | undefined): c is Partial<ReportContact> => !!c && Object.values(c).some((v) => v != null && v !== '')

/**
 * File a report, or find the one it repeats: a retry with the same Idempotency-Key, or an identical
 * report (same client, household, stream and collection date) within DUPLICATE_WINDOW_MINUTES.
 * `created` says which. Throws IdempotencyConflictError when a key is reused for another report.
 */
export async function createReport(db: Database, input: NewReport): Promise<{ report: MissedReport; created: boolean }> {
  const id = await db.transaction(async (tx) => {
    // Serialise filings that could repeat each other, so that a retry racing its original finds it.
    // Locks are always taken in this order (key, then content), so two filings cannot deadlock.
    if (input.idempotencyKey) await tx.query('SELECT pg_advisory_xact_lock($1)', [lockKey(`report-key:${input.source}:${input.idempotencyKey}`)])
    await tx.query('SELECT pg_advisory_xact_lock($1)', [lockKey(`report:${input.source}:${input.uprn}:${input.stream}`)])
    if (input.idempotencyKey) {
      const { rows } = await tx.query<{ id: number; uprn: number; serviceCode: string }>(
        `SELECT report_id AS id, uprn, service_code AS "serviceCode" FROM missed_reports WHERE source = $1 AND idempotency_key = $2`,
        [input.source, input.idempotencyKey],
      )
      const same = rows[0]
      if (same) {
        if (same.uprn !== input.uprn || same.serviceCode !== input.serviceCode) throw new IdempotencyConflictError(`Idempotency-Key ${input.idempotencyKey} was already used for another report (${same.id}).`)
        return { id: same.id, created: false }
      }
    }
    const { rows: repeats } = await tx.query<{ id: number }>(
      `SELECT report_id AS id FROM missed_reports
        WHERE source = $1 AND uprn = $2 AND stream = $3 AND collection_date IS NOT DISTINCT FROM $4::date
          AND requested_at > COALESCE($5::timestamptz, now()) - make_interval(mins => $6)
          AND requested_at <= COALESCE($5::timestamptz, now())
        ORDER BY requested_at DESC, report_id DESC LIMIT 1`,
      [input.source, input.uprn, input.stream, input.collectionDate ?? null, input.requestedAt ?? null, DUPLICATE_WINDOW_MINUTES],
    )
    if (repeats[0]) return { id: repeats[0].id, created: false }

    const { rows } = await tx.query<{ id: number }>(
      `INSERT INTO missed_reports (service_code, stream, uprn, collection_date, collection_date_inferred, located_by, located_distance_m,
         description, bin_location_note, media_url, agency_responsible, service_notice, status_notes, source, idempotency_key, requested_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, COALESCE($15::timestamptz, now()), COALESCE($15::timestamptz, now()))
       RETURNING report_id AS id`,
      [input.serviceCode, input.stream, input.uprn, input.collectionDate ?? null, input.collectionDateInferred ?? false, input.locatedBy, input.locatedDistanceM ?? null,
        minimiseText(input.description, MAX_DESCRIPTION_CHARS), minimiseText(input.binLocationNote, MAX_LOCATION_NOTE_CHARS), input.mediaUrl ?? null,
        input.agencyResponsible ?? null, input.serviceNotice ?? null, input.source, input.idempotencyKey ?? null, input.requestedAt ?? null],
    )
    const newId = rows[0]!.id
    if (hasContact(input.contact)) {
      const c = input.contact
      await tx.query(
        `INSERT INTO report_contacts (report_id, first_name, last_name, email, phone, account_id, device_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [newId, c.firstName ?? null, c.lastName ?? null, c.email ?? null, c.phone ?? null, c.accountId ?? null, c.deviceId ?? null],
      )
    }
    await tx.query(
      `INSERT INTO report_updates (report_id, status, notes, at) SELECT report_id, status, status_notes, requested_at FROM missed_reports WHERE report_id = $1`,
      [newId],
    )
    return { id: newId, created: true }
  })
  return { report: (await getReport(db, id.id))!, created: id.created }
}

export async function getReport(db: Queryable, id: number): Promise<MissedReport | null> {
  const { rows } = await db.query<MissedReport>(`${SELECT_REPORT} WHERE r.report_id = $1`, [id])
  return rows[0] ?? null
}

export interface ReportFilters {
  ids?: readonly number[]
  serviceCodes?: readonly string[]
  statuses?: readonly ReportStatus[]
  validities?: readonly ReportValidity[]
  uprn?: number
  /** requested_at within [from, to] */
  from?: Date
  to?: Date
  limit?: number
  /** By requested time: newest first (default) or oldest first. */
  order?: 'newest' | 'oldest'
  /**
   * Only the reports listed after this one in the order asked for (requested_at, then report id):
   * the next page, without a deep offset. A report id that does not exist gives no reports.
   */
  after?: number
}

export async function listReports(db: Queryable, f: ReportFilters = {}): Promise<MissedReport[]> {
  const oldest = f.order === 'oldest'
  const direction = oldest ? 'ASC' : 'DESC'
  const beyond = oldest ? '>' : '<'
  // The page after a report: the time bound alone lets the index on requested_at find the start;
  // the row comparison then leaves out the reports as old as it that are listed before it.
  const { rows } = await db.query<MissedReport>(
    `${SELECT_REPORT}
      WHERE ($1::bigint[] IS NULL OR r.report_id = ANY($1::bigint[]))
        AND ($2::text[] IS NULL OR r.service_code = ANY($2::text[]))
        AND ($3::text[] IS NULL OR r.status = ANY($3::text[]))
        AND ($4::text[] IS NULL OR r.validity = ANY($4::text[]))
        AND ($5::bigint IS NULL OR r.uprn = $5)
        AND ($6::timestamptz IS NULL OR r.requested_at >= $6)
        AND ($7::timestamptz IS NULL OR r.requested_at <= $7)
        AND ($9::bigint IS NULL OR (
          r.requested_at ${beyond}= (SELECT a.requested_at FROM missed_reports a WHERE a.report_id = $9)
          AND (r.requested_at, r.report_id) ${beyond} (SELECT a.requested_at, a.report_id FROM missed_reports a WHERE a.report_id = $9)))
      ORDER BY r.requested_at ${direction}, r.report_id ${direction}
      LIMIT $8`,
    [f.ids ?? null, f.serviceCodes ?? null, f.statuses ?? null, f.validities ?? null, f.uprn ?? null, f.from ?? null, f.to ?? null, f.limit ?? 1000, f.after ?? null],
  )
  return rows
}

/** Apply a change to a report in one transaction and log it in report_updates when status or notes changed. */
async function changeReport(db: Database, id: number, at: Date | undefined, set: string, params: unknown[]): Promise<MissedReport | null> {
  const changed = await db.transaction(async (tx) => {
    const { rows: before } = await tx.query<{ status: string; notes: string | null }>(`SELECT status, status_notes AS notes FROM missed_reports WHERE report_id = $1 FOR UPDATE`, [id])
    if (!before[0]) return false
    const { rows: after } = await tx.query<{ status: string; notes: string | null; at: Date }>(
      `UPDATE missed_reports SET ${set}, updated_at = COALESCE($2::timestamptz, now()) WHERE report_id = $1
       RETURNING status, status_notes AS notes, updated_at AS at`,
      [id, at ?? null, ...params],
    )
    const a = after[0]!
    if (a.status !== before[0].status || a.notes !== before[0].notes) {
      await tx.query(`INSERT INTO report_updates (report_id, status, notes, at) VALUES ($1, $2, $3, $4)`, [id, a.status, a.notes, a.at])
    }
    // The CRM hears of the closure through the outbox, in this transaction (last: it takes the outbox lock).
    if (a.status === 'closed' && before[0].status !== 'closed') await emitReportClosed(tx, id)
    return true
  })
  return changed ? getReport(db, id) : null
}

export interface VerdictInput extends ReportAssessment {
  /** The Open311 service_notice to show from now on. */
  serviceNotice?: string
  at?: Date
}

/**
 * Record the analysis's verdict on a report (again, when late data changes it). Notes, the expected
 * return and the evidence are kept when not given; `close` closes it. Null for an unknown report.
 */
export async function setReportVerdict(db: Database, id: number, v: VerdictInput): Promise<MissedReport | null> {
  if (v.validity === 'invalid' && !v.reason) throw new ReportInputError('An invalid verdict needs a reason.')
  return changeReport(db, id, v.at,
    `validity = $3, invalid_reason = CASE WHEN $3 = 'invalid' THEN $4 ELSE NULL END, verdict = COALESCE($5::jsonb, verdict),
     expected_datetime = COALESCE($6::timestamptz, expected_datetime), status_notes = COALESCE($7, status_notes),
     service_notice = COALESCE($8, service_notice), assessed_at = COALESCE($2::timestamptz, now()),
     status = CASE WHEN $9 THEN 'closed' ELSE status END,
     closed_at = CASE WHEN $9 THEN COALESCE(closed_at, $2::timestamptz, now()) ELSE closed_at END`,
    [v.validity, v.reason ?? null, v.verdict === undefined ? null : JSON.stringify(v.verdict), v.expectedDatetime ?? null, v.statusNotes ?? null, v.serviceNotice ?? null, v.close ?? false],
  )
}

/** Close a report (e.g. the bin was collected on the return visit). Closing a closed report changes nothing. */
export async function closeReport(db: Database, id: number, notes: string, opts: { expectedDatetime?: Date; at?: Date } = {}): Promise<MissedReport | null> {
  const report = await getReport(db, id)
  if (!report || report.status === 'closed') return report
  return changeReport(db, id, opts.at,
    `status = 'closed', closed_at = COALESCE($2::timestamptz, now()), status_notes = $3, expected_datetime = COALESCE($4::timestamptz, expected_datetime)`,
    [notes, opts.expectedDatetime ?? null],
  )
}

export interface ReportUpdate {
  updateId: number
  reportId: number
  status: ReportStatus
  notes: string | null
  at: Date
}

/** Status changes and notes in [from, to], oldest first: the feed that CRMs poll. */
export async function listReportUpdates(db: Queryable, f: { from: Date; to: Date; limit?: number }): Promise<ReportUpdate[]> {
  const { rows } = await db.query<ReportUpdate>(
    `SELECT update_id AS "updateId", report_id AS "reportId", status, notes, at FROM report_updates
      WHERE at >= $1 AND at <= $2 ORDER BY at, update_id LIMIT $3`,
    [f.from, f.to, f.limit ?? 1000],
  )
  return rows
}

// Personal data of reporters: for subject-access exports and erasure (issue "data protection").

export async function reportContactsForUprn(db: Queryable, uprn: number): Promise<(ReportContact & { reportId: number; createdAt: Date })[]> {
  const { rows } = await db.query<ReportContact & { reportId: number; createdAt: Date }>(
    `SELECT c.report_id AS "reportId", c.first_name AS "firstName", c.last_name AS "lastName", c.email, c.phone,
            c.account_id AS "accountId", c.device_id AS "deviceId", c.created_at AS "createdAt"
       FROM report_contacts c JOIN missed_reports r ON r.report_id = c.report_id WHERE r.uprn = $1 ORDER BY c.report_id`,
    [uprn],
  )
  return rows
}

/** Erase reporters' personal data (of given reports, or of every report about a household); the reports stay. */
export async function eraseReportContacts(db: Queryable, which: { reportIds: readonly number[] } | { uprn: number }): Promise<number> {
  const res = 'uprn' in which
    ? await db.query(`DELETE FROM report_contacts c USING missed_reports r WHERE r.report_id = c.report_id AND r.uprn = $1`, [which.uprn])
    : await db.query(`DELETE FROM report_contacts WHERE report_id = ANY($1::bigint[])`, [which.reportIds])
  return res.rowCount
}

/** Retention: erase reporters' personal data of reports made before `before`; the reports stay. */
export async function eraseReportContactsBefore(db: Queryable, before: Date): Promise<number> {
  const res = await db.query(`DELETE FROM report_contacts c USING missed_reports r WHERE r.report_id = c.report_id AND r.requested_at < $1`, [before])
  return res.rowCount
}

// Where a report is about: the household by UPRN, or the nearest one to a point.

export interface ReportedHousehold {
  uprn: number
  address: string
  postcode: string | null
  lat: number | null
  lon: number | null
  distanceM: number | null
}

export async function findHousehold(db: Queryable, uprn: number): Promise<ReportedHousehold | null> {
  const { rows } = await db.query<ReportedHousehold>(`SELECT uprn, address, postcode, lat, lon, NULL::float8 AS "distanceM" FROM households WHERE uprn = $1`, [uprn])
  return rows[0] ?? null
}

const EARTH_RADIUS_M = 6_371_008.8

/** The household nearest to (lat, lon) within `maxMetres` (great-circle distance), or null. */
export async function nearestHousehold(db: Queryable, lat: number, lon: number, maxMetres: number): Promise<ReportedHousehold | null> {
  // A box around the point narrows the search (households_lat_lon_idx); the distance decides.
  const dLat = (maxMetres / EARTH_RADIUS_M) * (180 / Math.PI)
  const dLon = dLat / Math.max(Math.cos((lat * Math.PI) / 180), 0.01)
  const { rows } = await db.query<ReportedHousehold>(
    `SELECT * FROM (
       SELECT uprn, address, postcode, lat, lon,
              2 * $5::float8 * asin(sqrt(power(sin(radians(lat - $1) / 2), 2) + cos(radians($1)) * cos(radians(lat)) * power(sin(radians(lon - $2) / 2), 2))) AS "distanceM"
         FROM households
        WHERE lat BETWEEN $1::float8 - $3 AND $1::float8 + $3 AND lon BETWEEN $2::float8 - $4 AND $2::float8 + $4
     ) h WHERE "distanceM" <= $6 ORDER BY "distanceM", uprn LIMIT 1`,
    [lat, lon, dLat, dLon, EARTH_RADIUS_M, maxMetres],
  )
  return rows[0] ?? null
}

/** The contractor whose active round collects this stream from this household, if any. */
export async function responsibleContractor(db: Queryable, uprn: number, stream: WasteStream): Promise<string | null> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.name FROM round_households rh
       JOIN rounds r ON r.round_id = rh.round_id
       JOIN contracts k ON k.contract_id = r.contract_id
       JOIN contractors c ON c.contractor_id = k.contractor_id
      WHERE rh.uprn = $1 AND r.stream = $2 AND r.active ORDER BY r.round_id LIMIT 1`,
    [uprn, stream],
  )
  return rows[0]?.name ?? null
}

/** Due date of the latest collection of this stream at this household on or before `onOrBefore`. */
export async function latestDueCollection(db: Queryable, uprn: number, stream: WasteStream, onOrBefore: string): Promise<string | null> {
  const { rows } = await db.query<{ dueDate: string }>(
    `SELECT due_date AS "dueDate" FROM scheduled_collections
      WHERE uprn = $1 AND stream = $2 AND NOT cancelled AND due_date <= $3::date ORDER BY due_date DESC LIMIT 1`,
    [uprn, stream, onOrBefore],
  )
  return rows[0]?.dueDate ?? null
}
