// Bulk upserts of registry rows: one INSERT … SELECT FROM unnest(arrays) … ON CONFLICT per chunk.
// A row in the file is the whole row: a field it leaves out takes the column's default (as in
// 001_registry.sql and 008_rounds_and_calendar.sql), and an existing row is updated only when a value
// changed. Each statement answers how many rows it inserted and how many it changed
// (xmax = 0 marks a row this statement inserted).
import type { RegistryEntity } from './entities.ts'
import type { Queryable } from '../database.ts'

interface Upsert {
  /** Row properties in the order of the statement's $1, $2, … arrays. */
  props: readonly string[]
  sql: string
}

const counted = (insert: string) => `WITH up AS (${insert}
  RETURNING (xmax = 0) AS inserted)
SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS updated FROM up`

export const UPSERTS: Record<RegistryEntity, Upsert> = {
  contractors: {
    props: ['contractorId', 'name'],
    sql: counted(`INSERT INTO contractors AS t (contractor_id, name)
  SELECT * FROM unnest($1::text[], $2::text[])
  ON CONFLICT (contractor_id) DO UPDATE SET name = EXCLUDED.name
  WHERE t.name IS DISTINCT FROM EXCLUDED.name`),
  },
  households: {
    props: ['uprn', 'address', 'street', 'postcode', 'ward', 'lat', 'lon', 'assisted', 'crmRef'],
    sql: counted(`INSERT INTO households AS t (uprn, address, street, postcode, ward, lat, lon, assisted, crm_ref)
  SELECT u.uprn, u.address, u.street, u.postcode, u.ward, u.lat, u.lon, coalesce(u.assisted, false), u.crm_ref
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::boolean[], $9::text[])
      AS u (uprn, address, street, postcode, ward, lat, lon, assisted, crm_ref)
  ON CONFLICT (uprn) DO UPDATE SET address = EXCLUDED.address, street = EXCLUDED.street, postcode = EXCLUDED.postcode,
    ward = EXCLUDED.ward, lat = EXCLUDED.lat, lon = EXCLUDED.lon, assisted = EXCLUDED.assisted, crm_ref = EXCLUDED.crm_ref, updated_at = now()
  WHERE (t.address, t.street, t.postcode, t.ward, t.lat, t.lon, t.assisted, t.crm_ref)
    IS DISTINCT FROM (EXCLUDED.address, EXCLUDED.street, EXCLUDED.postcode, EXCLUDED.ward, EXCLUDED.lat, EXCLUDED.lon, EXCLUDED.assisted, EXCLUDED.crm_ref)`),
  },
  bins: {
    props: ['binId', 'uprn', 'stream', 'rfidTag', 'capacityL', 'colour', 'communal'],
    sql: counted(`INSERT INTO bins AS t (bin_id, uprn, stream, rfid_tag, capacity_l, colour, communal)
  SELECT u.bin_id, u.uprn, u.stream, u.rfid_tag, u.capacity_l, u.colour, coalesce(u.communal, false)
    FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::text[], $7::boolean[])
      AS u (bin_id, uprn, stream, rfid_tag, capacity_l, colour, communal)
  ON CONFLICT (bin_id) DO UPDATE SET uprn = EXCLUDED.uprn, stream = EXCLUDED.stream, rfid_tag = EXCLUDED.rfid_tag,
    capacity_l = EXCLUDED.capacity_l, colour = EXCLUDED.colour, communal = EXCLUDED.communal
  WHERE (t.uprn, t.stream, t.rfid_tag, t.capacity_l, t.colour, t.communal)
    IS DISTINCT FROM (EXCLUDED.uprn, EXCLUDED.stream, EXCLUDED.rfid_tag, EXCLUDED.capacity_l, EXCLUDED.colour, EXCLUDED.communal)`),
  },
  vehicles: {
    props: ['vehicleId', 'registration', 'contractorId', 'capacityKg'],
    sql: counted(`INSERT INTO vehicles AS t (vehicle_id, registration, contractor_id, capacity_kg)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[])
  ON CONFLICT (vehicle_id) DO UPDATE SET registration = EXCLUDED.registration, contractor_id = EXCLUDED.contractor_id, capacity_kg = EXCLUDED.capacity_kg
  WHERE (t.registration, t.contractor_id, t.capacity_kg) IS DISTINCT FROM (EXCLUDED.registration, EXCLUDED.contractor_id, EXCLUDED.capacity_kg)`),
  },
  contracts: {
    props: ['contractId', 'contractorId', 'name', 'startsOn', 'endsOn', 'monthlyPayment', 'targetMissedPer100k', 'targetOnDayPct', 'targetRectifiedPct',
      'pointsPerMiss', 'pointsNotRectified', 'repeatMultiplier', 'repeatWindowDays', 'pointValue', 'deductionCapPct', 'rectifyWorkingDays',
      'reportOpensHour', 'reportWindowWorkingDays'],
    sql: counted(`INSERT INTO contracts AS t (contract_id, contractor_id, name, starts_on, ends_on, monthly_payment, target_missed_per_100k,
    target_on_day_pct, target_rectified_pct, points_per_miss, points_not_rectified, repeat_multiplier, repeat_window_days, point_value,
    deduction_cap_pct, rectify_working_days, report_opens_hour, report_window_working_days)
  SELECT u.contract_id, u.contractor_id, u.name, u.starts_on, u.ends_on, coalesce(u.monthly_payment, 0), coalesce(u.target_missed_per_100k, 30),
    coalesce(u.target_on_day_pct, 99.76), coalesce(u.target_rectified_pct, 98), coalesce(u.points_per_miss, 1), coalesce(u.points_not_rectified, 2),
    coalesce(u.repeat_multiplier, 2), coalesce(u.repeat_window_days, 84), coalesce(u.point_value, 50), coalesce(u.deduction_cap_pct, 10),
    coalesce(u.rectify_working_days, 1), coalesce(u.report_opens_hour, 16), coalesce(u.report_window_working_days, 3)
    FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::date[], $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[],
      $10::numeric[], $11::numeric[], $12::numeric[], $13::int[], $14::numeric[], $15::numeric[], $16::int[], $17::int[], $18::int[])
      AS u (contract_id, contractor_id, name, starts_on, ends_on, monthly_payment, target_missed_per_100k, target_on_day_pct,
        target_rectified_pct, points_per_miss, points_not_rectified, repeat_multiplier, repeat_window_days, point_value, deduction_cap_pct,
        rectify_working_days, report_opens_hour, report_window_working_days)
  ON CONFLICT (contract_id) DO UPDATE SET contractor_id = EXCLUDED.contractor_id, name = EXCLUDED.name, starts_on = EXCLUDED.starts_on,
    ends_on = EXCLUDED.ends_on, monthly_payment = EXCLUDED.monthly_payment, target_missed_per_100k = EXCLUDED.target_missed_per_100k,
    target_on_day_pct = EXCLUDED.target_on_day_pct, target_rectified_pct = EXCLUDED.target_rectified_pct, points_per_miss = EXCLUDED.points_per_miss,
    points_not_rectified = EXCLUDED.points_not_rectified, repeat_multiplier = EXCLUDED.repeat_multiplier, repeat_window_days = EXCLUDED.repeat_window_days,
    point_value = EXCLUDED.point_value, deduction_cap_pct = EXCLUDED.deduction_cap_pct, rectify_working_days = EXCLUDED.rectify_working_days,
    report_opens_hour = EXCLUDED.report_opens_hour, report_window_working_days = EXCLUDED.report_window_working_days
  WHERE (t.contractor_id, t.name, t.starts_on, t.ends_on, t.monthly_payment, t.target_missed_per_100k, t.target_on_day_pct, t.target_rectified_pct,
      t.points_per_miss, t.points_not_rectified, t.repeat_multiplier, t.repeat_window_days, t.point_value, t.deduction_cap_pct,
      t.rectify_working_days, t.report_opens_hour, t.report_window_working_days)
    IS DISTINCT FROM (EXCLUDED.contractor_id, EXCLUDED.name, EXCLUDED.starts_on, EXCLUDED.ends_on, EXCLUDED.monthly_payment,
      EXCLUDED.target_missed_per_100k, EXCLUDED.target_on_day_pct, EXCLUDED.target_rectified_pct, EXCLUDED.points_per_miss,
      EXCLUDED.points_not_rectified, EXCLUDED.repeat_multiplier, EXCLUDED.repeat_window_days, EXCLUDED.point_value, EXCLUDED.deduction_cap_pct,
      EXCLUDED.rectify_working_days, EXCLUDED.report_opens_hour, EXCLUDED.report_window_working_days)`),
  },
  rounds: {
    props: ['roundId', 'contractId', 'name', 'stream', 'vehicleId', 'weekday', 'frequency', 'anchorDate', 'startsAt', 'endsAt', 'subscription', 'active'],
    sql: counted(`INSERT INTO rounds AS t (round_id, contract_id, name, stream, vehicle_id, weekday, frequency, anchor_date, starts_at, ends_at, subscription, active)
  SELECT u.round_id, u.contract_id, u.name, u.stream, u.vehicle_id, u.weekday, u.frequency, u.anchor_date,
    coalesce(u.starts_at, '07:00'), coalesce(u.ends_at, '15:00'), coalesce(u.subscription, false), coalesce(u.active, true)
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::date[], $9::time[], $10::time[], $11::boolean[], $12::boolean[])
      AS u (round_id, contract_id, name, stream, vehicle_id, weekday, frequency, anchor_date, starts_at, ends_at, subscription, active)
  ON CONFLICT (round_id) DO UPDATE SET contract_id = EXCLUDED.contract_id, name = EXCLUDED.name, stream = EXCLUDED.stream,
    vehicle_id = EXCLUDED.vehicle_id, weekday = EXCLUDED.weekday, frequency = EXCLUDED.frequency, anchor_date = EXCLUDED.anchor_date,
    starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, subscription = EXCLUDED.subscription, active = EXCLUDED.active, updated_at = now()
  WHERE (t.contract_id, t.name, t.stream, t.vehicle_id, t.weekday, t.frequency, t.anchor_date, t.starts_at, t.ends_at, t.subscription, t.active)
    IS DISTINCT FROM (EXCLUDED.contract_id, EXCLUDED.name, EXCLUDED.stream, EXCLUDED.vehicle_id, EXCLUDED.weekday, EXCLUDED.frequency,
      EXCLUDED.anchor_date, EXCLUDED.starts_at, EXCLUDED.ends_at, EXCLUDED.subscription, EXCLUDED.active)`),
  },
  roundStops: {
    props: ['roundId', 'uprn', 'position'],
    sql: counted(`INSERT INTO round_households AS t (round_id, uprn, position)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[])
  ON CONFLICT (round_id, uprn) DO UPDATE SET position = EXCLUDED.position
  WHERE t.position IS DISTINCT FROM EXCLUDED.position`),
  },
  subscriptions: {
    props: ['uprn', 'stream', 'startsOn', 'endsOn'],
    sql: counted(`INSERT INTO subscriptions AS t (uprn, stream, starts_on, ends_on)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::date[], $4::date[])
  ON CONFLICT (uprn, stream, starts_on) DO UPDATE SET ends_on = EXCLUDED.ends_on
  WHERE t.ends_on IS DISTINCT FROM EXCLUDED.ends_on`),
  },
}

/** Upsert one chunk of rows of an entity. */
export async function upsertChunk(tx: Queryable, entity: RegistryEntity, rows: readonly object[]): Promise<{ inserted: number; updated: number }> {
  const { props, sql } = UPSERTS[entity]
  const arrays = props.map((p) => rows.map((r) => (r as Record<string, unknown>)[p] ?? null))
  const { rows: out } = await tx.query<{ inserted: number; updated: number }>(sql, arrays)
  return out[0]!
}

/** Clear the RFID tags that pass to other bins in this import, so that the unique index never sees two owners. */
export async function releaseTags(tx: Queryable, binIds: string[]): Promise<void> {
  if (binIds.length > 0) await tx.query(`UPDATE bins SET rfid_tag = NULL WHERE bin_id = ANY($1::text[])`, [binIds])
}

/**
 * Fit devices to bins or vehicles. A device's previous bin is freed, and a bin's previous device is
 * unfitted first (a sensor replaced), so that the unique bin_id / vehicle_id of devices holds at every step.
 * Devices are never unfitted by leaving the field empty: provisioning owns that.
 */
export async function linkDevices(tx: Queryable, kind: 'bin' | 'vehicle', links: { deviceId: string; target: string }[]): Promise<number> {
  if (links.length === 0) return 0
  const col = kind === 'bin' ? 'bin_id' : 'vehicle_id'
  const params = [links.map((l) => l.deviceId), links.map((l) => l.target)]
  await tx.query(
    `UPDATE devices d SET ${col} = NULL FROM unnest($1::text[], $2::text[]) AS l (device_id, target)
      WHERE (d.${col} = l.target AND d.device_id <> l.device_id) OR (d.device_id = l.device_id AND d.${col} IS DISTINCT FROM l.target)`,
    params,
  )
  const res = await tx.query(
    `UPDATE devices d SET ${col} = l.target FROM unnest($1::text[], $2::text[]) AS l (device_id, target)
      WHERE d.device_id = l.device_id AND d.${col} IS NULL`,
    params,
  )
  return res.rowCount
}

/** Remove the stops of these rounds that the file no longer lists; returns how many. */
export async function removeStaleStops(tx: Queryable, stops: readonly { roundId: string; uprn: number }[], chunk: number): Promise<number> {
  const rounds = [...new Set(stops.map((s) => s.roundId))]
  const keep = new Set(stops.map((s) => `${s.roundId}\u0000${s.uprn}`))
  const { rows } = await tx.query<{ roundId: string; uprn: number }>(`SELECT round_id AS "roundId", uprn FROM round_households WHERE round_id = ANY($1::text[])`, [rounds])
  const stale = rows.filter((r) => !keep.has(`${r.roundId}\u0000${r.uprn}`))
  for (let i = 0; i < stale.length; i += chunk) {
    const part = stale.slice(i, i + chunk)
    await tx.query(
      `DELETE FROM round_households rh USING unnest($1::text[], $2::bigint[]) AS s (round_id, uprn) WHERE rh.round_id = s.round_id AND rh.uprn = s.uprn`,
      [part.map((s) => s.roundId), part.map((s) => s.uprn)],
    )
  }
  return stale.length
}
