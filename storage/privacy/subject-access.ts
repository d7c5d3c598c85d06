// The subject-access export: everything Kerbside holds about one household (UPRN), in one document
// that says what each part is (core/contract/privacy.ts). Readings are summarised per local day in
// full, and given raw for a recent window (or all, or none): a year of hourly readings from three
// bins is some 26,000 rows, which the council can still ask for with rawReadings=all.
import type { ExportReading, ExportReadingDay, ExportReport, RawReadings, SubjectAccessExport } from '../../core/contract/privacy.ts'
import type { Queryable } from '../database.ts'
import { erasureRecords } from './erasure.ts'
import { lastRetention } from './retention.ts'

export interface ExportOptions {
  rawReadings: RawReadings
  /** With rawReadings 'recent': readings of the last this many days. */
  rawDays: number
  now: Date
  timeZone: string
  requestedBy: { actor: string; role: string }
}

type Doc = SubjectAccessExport
const one = async <T>(db: Queryable, sql: string, params: unknown[]): Promise<T | undefined> => (await db.query<T>(sql, params)).rows[0]
const many = async <T>(db: Queryable, sql: string, params: unknown[]): Promise<T[]> => (await db.query<T>(sql, params)).rows
const tableExists = async (db: Queryable, name: string) => (await one<{ ok: boolean }>(db, `SELECT to_regclass($1) IS NOT NULL AS ok`, [name]))?.ok === true

async function readings(db: Queryable, uprn: number, o: ExportOptions): Promise<Doc['sensorReadings']> {
  const stats = (await one<{ total: number; first: Date | null; last: Date | null }>(db,
    `SELECT count(*)::int AS total, min(ts) AS first, max(ts) AS last FROM bin_readings WHERE uprn = $1`, [uprn]))!
  const daily = await many<ExportReadingDay>(db,
    `SELECT (ts AT TIME ZONE $2)::date AS day, device_id AS "deviceId", bin_id AS "binId", count(*)::int AS readings,
            round(avg(fill_pct)::numeric, 2)::float8 AS "fillAvgPct", min(fill_pct)::float8 AS "fillMinPct", max(fill_pct)::float8 AS "fillMaxPct",
            max(temp_c)::float8 AS "tempMaxC", min(battery_v)::float8 AS "batteryMinV",
            coalesce(json_agg(DISTINCT status) FILTER (WHERE status IS NOT NULL), '[]'::json) AS statuses
       FROM bin_readings WHERE uprn = $1 GROUP BY 1, 2, 3 ORDER BY 1, 2`, [uprn, o.timeZone])
  const from = o.rawReadings === 'recent' ? new Date(o.now.getTime() - o.rawDays * 86_400_000) : null
  const raw = o.rawReadings === 'none' ? [] : await many<ExportReading>(db,
    `SELECT ts, device_id AS "deviceId", seq, bin_id AS "binId", fill_pct::float8 AS "fillPct", temp_c::float8 AS "tempC", battery_v::float8 AS "batteryV",
            status, received_at AS "receivedAt"
       FROM bin_readings WHERE uprn = $1 AND ($2::timestamptz IS NULL OR ts >= $2) ORDER BY ts, device_id, seq`, [uprn, from])
  const rawAbout = {
    recent: `The raw readings of the last ${o.rawDays} days, as each sensor sent them (fill %, temperature °C, battery V, status) with the time Kerbside received them. Ask with rawReadings=all for every raw reading held.`,
    all: 'Every raw reading held, as each sensor sent it (fill %, temperature °C, battery V, status) with the time Kerbside received it.',
    none: 'Raw readings were left out of this export on request; the daily summary above covers every one of them. Ask with rawReadings=all for them.',
  }[o.rawReadings]
  return {
    about: 'Readings of the sensors fitted to the household\'s bins: how full, how warm, battery and lid/tilt status, recorded against the household at the time of each reading. '
      + 'They describe the bins, not a person, but can show when a household puts waste out. Kept for READINGS_RETENTION_DAYS, then deleted with their hourly roll-up.',
    total: stats.total, first: stats.first?.toISOString() ?? null, last: stats.last?.toISOString() ?? null,
    daily,
    raw: { about: rawAbout, included: o.rawReadings, from: from?.toISOString() ?? null, count: raw.length, readings: raw.map((r) => ({ ...r, ts: iso(r.ts), receivedAt: iso(r.receivedAt) })) },
  } as Doc['sensorReadings']
}

async function reports(db: Queryable, uprn: number): Promise<ExportReport[]> {
  const rows = await many<Omit<ExportReport, 'contact' | 'updates'> & { contact: ExportReport['contact'] }>(db,
    `SELECT r.report_id AS "reportId", r.service_code AS "serviceCode", r.stream, r.collection_date AS "collectionDate", r.collection_date_inferred AS "collectionDateInferred",
            r.located_by AS "locatedBy", r.located_distance_m AS "locatedDistanceM", r.description, r.bin_location_note AS "binLocationNote", r.media_url AS "mediaUrl",
            r.agency_responsible AS "agencyResponsible", r.status, r.status_notes AS "statusNotes", r.service_notice AS "serviceNotice", r.expected_datetime AS "expectedDatetime",
            r.validity, r.invalid_reason AS "invalidReason", r.verdict, r.assessed_at AS "assessedAt", r.source, r.idempotency_key AS "idempotencyKey",
            r.requested_at AS "requestedAt", r.updated_at AS "updatedAt", r.closed_at AS "closedAt",
            CASE WHEN c.report_id IS NULL THEN NULL ELSE json_build_object('firstName', c.first_name, 'lastName', c.last_name, 'email', c.email, 'phone', c.phone,
              'accountId', c.account_id, 'deviceId', c.device_id, 'createdAt', c.created_at) END AS contact
       FROM missed_reports r LEFT JOIN report_contacts c ON c.report_id = r.report_id
      WHERE r.uprn = $1 ORDER BY r.requested_at, r.report_id`, [uprn])
  const updates = await many<{ reportId: number; status: string; notes: string | null; at: Date }>(db,
    `SELECT u.report_id AS "reportId", u.status, u.notes, u.at FROM report_updates u JOIN missed_reports r ON r.report_id = u.report_id
      WHERE r.uprn = $1 ORDER BY u.at, u.update_id`, [uprn])
  return rows.map((r) => ({
    ...r,
    // json_build_object gives the contact's time as text in the server's format: make it ISO 8601.
    contact: r.contact ? { ...r.contact, createdAt: iso(new Date(r.contact.createdAt)) } : null,
    updates: updates.filter((u) => u.reportId === r.reportId).map((u) => ({ status: u.status, notes: u.notes, at: iso(u.at) })),
  }))
}

async function rewards(db: Queryable, uprn: number): Promise<Doc['rewards']> {
  const about = 'The environmental reward scheme\'s points ledger: every entry posted to the household, with the rule, the reason in words and the evidence. Append-only; the balance is the sum.'
  if (!(await tableExists(db, 'reward_ledger'))) return { about: `${about} This installation has no reward scheme, so nothing is held.`, held: false, balance: null, ledger: [] }
  const ledger = await many<Doc['rewards']['ledger'][number]>(db,
    `SELECT entry_id AS "entryId", period, rule, kind, points, reason, evidence, posted_at AS "postedAt" FROM reward_ledger WHERE uprn = $1 ORDER BY period, entry_id`, [uprn])
  return { about, held: true, balance: ledger.reduce((n, e) => n + e.points, 0), ledger }
}

async function crmEvents(db: Queryable, uprn: number): Promise<Doc['crmEvents']> {
  const about = 'Events about the household that Kerbside put in its outbox for the council\'s CRM (reward points, confirmed missed collections, closed reports), and to which CRM endpoint each was delivered.'
  if (!(await tableExists(db, 'crm_outbox'))) return { about: `${about} This installation has no CRM outbox, so nothing is held.`, held: false, items: [] }
  const deliveries = await tableExists(db, 'crm_webhook_deliveries')
  const items = await many<Doc['crmEvents']['items'][number]>(db,
    `SELECT o.event_id AS "eventId", o.idempotency_key AS "idempotencyKey", o.type, o.occurred_at AS "occurredAt", o.crm_ref AS "crmRef", o.data, o.created_at AS "createdAt",
            ${deliveries
              ? `coalesce((SELECT json_agg(json_build_object('endpointId', d.endpoint_id, 'status', d.status, 'deliveredAt', d.delivered_at) ORDER BY d.endpoint_id)
                   FROM crm_webhook_deliveries d WHERE d.event_id = o.event_id), '[]'::json)`
              : `'[]'::json`} AS deliveries
       FROM crm_outbox o WHERE o.uprn = $1 ORDER BY o.event_id`, [uprn])
  return { about, held: true, items: items.map((e) => ({ ...e, deliveries: e.deliveries.map((d) => ({ ...d, deliveredAt: d.deliveredAt ? iso(new Date(d.deliveredAt)) : null })) })) }
}

const iso = (d: Date | string) => new Date(d).toISOString()

/** Everything held about `uprn`, or null when Kerbside has no such household. */
export async function subjectAccessExport(db: Queryable, uprn: number, o: ExportOptions): Promise<SubjectAccessExport | null> {
  const household = await one<Doc['household']['record']>(db,
    `SELECT uprn, address, street, postcode, ward, lat, lon, assisted, crm_ref AS "crmRef", created_at AS "createdAt", updated_at AS "updatedAt" FROM households WHERE uprn = $1`, [uprn])
  if (!household) return null
  const p = [uprn]
  const retention = await lastRetention(db)
  const doc = {
    about: {
      uprn, generatedAt: o.now.toISOString(), generatedBy: o.requestedBy, timeZone: o.timeZone,
      summary: `Everything Kerbside holds about the property with UPRN ${uprn}: the household record, its bins and their sensors, sensor readings, bin lifts, `
        + 'scheduled collections and what happened to each, missed-bin reports with the details of whoever made them, reward points, events sent to the council\'s CRM, '
        + 'erasures already made, and who has read the record. Each part says what it is. Times are UTC (ISO 8601); days are local days.',
      retention: {
        about: 'How long each kind of data is kept before the daily retention job deletes it (0 = without limit): reportContacts (reporters\' details and the free text of reports), '
          + 'auditLog, readings (raw and hourly), positions (vehicle GPS). Lifts, collection outcomes, reports without their reporter, and reward entries are kept for the contract\'s records.',
        lastRun: retention?.at.toISOString() ?? null,
        days: retention?.days ?? null,
      },
    },
    household: {
      about: 'The property on the council\'s collection register (imported from the council\'s systems): address, location, ward, whether it has an assisted collection, and its reference in the council\'s CRM.',
      record: household,
    },
    bins: {
      about: 'The bins registered at the property, with their RFID tag (read by the collection vehicle), size and colour; inactive ones have been withdrawn.',
      items: await many(db, `SELECT bin_id AS "binId", stream, rfid_tag AS "rfidTag", capacity_l AS "capacityL", colour, communal, active, created_at AS "createdAt" FROM bins WHERE uprn = $1 ORDER BY bin_id`, p),
    },
    devices: {
      about: 'Sensors fitted to those bins, now or before (revoked), with their last contact. A sensor\'s secret is held only as a hash and is not given.',
      items: await many(db, `SELECT d.device_id AS "deviceId", d.bin_id AS "binId", d.created_at AS "createdAt", d.revoked_at AS "revokedAt", d.online, d.online_since AS "onlineSince",
                                    d.last_seq AS "lastSeq", d.last_ts AS "lastTs"
                               FROM devices d JOIN bins b ON b.bin_id = d.bin_id WHERE b.uprn = $1 ORDER BY d.device_id`, p),
    },
    rounds: {
      about: 'The collection rounds that call at the property, and its place in each round\'s order.',
      items: await many(db, `SELECT r.round_id AS "roundId", r.name, r.stream, r.weekday, r.frequency, rh.position, r.active
                               FROM round_households rh JOIN rounds r ON r.round_id = rh.round_id WHERE rh.uprn = $1 ORDER BY r.round_id`, p),
    },
    subscriptions: {
      about: 'Subscriptions to collections that are paid for separately (e.g. garden waste).',
      items: await many(db, `SELECT stream, starts_on AS "startsOn", ends_on AS "endsOn" FROM subscriptions WHERE uprn = $1 ORDER BY starts_on, stream`, p),
    },
    sensorReadings: await readings(db, uprn, o),
    lifts: {
      about: 'Every time a collection vehicle lifted (or logged an exception for) one of the property\'s bins: when, which vehicle, the bin\'s tag, the weight and where the vehicle was.',
      items: await many(db, `SELECT ts, device_id AS "deviceId", seq, vehicle_id AS "vehicleId", tag, bin_id AS "binId", weight_kg::float8 AS "weightKg", lat, lon, outcome, received_at AS "receivedAt"
                               FROM lift_events WHERE uprn = $1 ORDER BY ts, device_id, seq`, p),
    },
    collections: {
      about: 'Every collection scheduled at the property and what happened to it (collected, missed, crew exception, rectified…), with the evidence that decided it.',
      items: await many(db, `SELECT sc.collection_id AS "collectionId", sc.stream, sc.round_id AS "roundId", sc.scheduled_date AS "scheduledDate", sc.due_date AS "dueDate", sc.cancelled,
                                    co.outcome, co.exception_code AS "exceptionCode", co.lift_ts AS "liftTs", co.lift_weight_kg::float8 AS "liftWeightKg", co.lift_distance_m::float8 AS "liftDistanceM",
                                    co.missed_at AS "missedAt", co.reported_at AS "reportedAt", co.rectify_deadline AS "rectifyDeadline", co.rectified_at AS "rectifiedAt",
                                    co.evidence, co.decided_at AS "decidedAt"
                               FROM scheduled_collections sc LEFT JOIN collection_outcomes co ON co.collection_id = sc.collection_id
                              WHERE sc.uprn = $1 ORDER BY sc.due_date, sc.stream, sc.collection_id`, p),
    },
    missedReports: {
      about: 'Missed-bin reports about the property, each with the contact details of whoever made it (kept apart, and deleted REPORT_CONTACT_RETENTION_DAYS after the report), '
        + 'Kerbside\'s verdict on it, and every status change. A null contact means none was given or it has been erased.',
      items: await reports(db, uprn),
    },
    rewards: await rewards(db, uprn),
    crmEvents: await crmEvents(db, uprn),
    erasures: {
      about: 'Erasures of the household\'s personal data already made: when, by whom and how many items of each kind (never the erased content).',
      items: await erasureRecords(db, { uprn, limit: 10_000, offset: 0 }),
    },
    accessLog: {
      about: 'Who has read or changed this household\'s record through Kerbside\'s API (the audit log), kept for AUDIT_LOG_RETENTION_DAYS. Network addresses of the council\'s staff and systems are not given. This export is recorded there too, once it has been sent.',
      items: await many(db, `SELECT at, actor, actor_name AS "actorName", role, action, status FROM audit_log WHERE uprn = $1 ORDER BY at, id`, p),
    },
    notIncluded: await notIncluded(db, uprn),
  }
  return JSON.parse(JSON.stringify(doc)) as SubjectAccessExport
}

async function notIncluded(db: Queryable, uprn: number): Promise<Doc['notIncluded']> {
  const counts = (await one<{ events: number; gaps: number }>(db,
    `SELECT (SELECT count(*)::int FROM device_status_events e JOIN devices d ON d.device_id = e.device_id JOIN bins b ON b.bin_id = d.bin_id WHERE b.uprn = $1) AS events,
            (SELECT count(*)::int FROM device_gaps g JOIN devices d ON d.device_id = g.device_id JOIN bins b ON b.bin_id = d.bin_id WHERE b.uprn = $1 AND NOT g.lead_in) AS gaps`, [uprn]))!
  return [
    { what: 'Sensor secrets', why: 'Held only as a slow hash: a credential of the device, not information about the household.' },
    { what: `${counts.events} online/offline transitions and ${counts.gaps} message-sequence gaps of the sensors above`, why: 'Technical records of the sensors\' radio link, with no information about the household beyond what the readings show; available on request.' },
    { what: 'The hourly roll-up of the sensor readings', why: 'Derived from the readings above, which the daily summary covers in full.' },
    { what: 'Refuse vehicles\' GPS positions', why: 'The movements of the crews, not linked to any household; deleted after POSITION_RETENTION_DAYS.' },
    { what: 'Contract performance figures (KPIs)', why: 'Counts per round and day, with no household in them.' },
  ]
}
