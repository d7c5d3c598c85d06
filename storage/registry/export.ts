// Registry export, page by page so that a city-sized registry is never held in memory at once:
// JSON (the RegistryDataset shape) or CSV per entity (the columns import reads). Rows come in key
// order, round stops in driving order, and absent values are left out, so export → import gives
// back the same registry.
import { stringify } from 'csv-stringify/sync'
import type { Queryable } from '../database.ts'
import { REGISTRY_ENTITIES, ROW_SCHEMAS, type RegistryEntity } from './entities.ts'

export const EXPORT_PAGE = 5_000

interface Source {
  /** SELECT … FROM … ending where a keyset condition may be appended. */
  select: string
  /** Key columns (SQL) and the row properties that hold them, in ORDER BY order. */
  key: readonly string[]
  keyProps: readonly string[]
  keyTypes: readonly string[]
}

const SOURCES: Record<Exclude<RegistryEntity, 'roundStops'>, Source> = {
  contractors: { select: `SELECT contractor_id AS "contractorId", name FROM contractors t`, key: ['t.contractor_id'], keyProps: ['contractorId'], keyTypes: ['text'] },
  households: {
    select: `SELECT uprn, address, street, postcode, ward, lat, lon, assisted, crm_ref AS "crmRef" FROM households t`,
    key: ['t.uprn'], keyProps: ['uprn'], keyTypes: ['bigint'],
  },
  bins: {
    select: `SELECT t.bin_id AS "binId", t.uprn, t.stream, t.rfid_tag AS "rfidTag", t.capacity_l AS "capacityL", t.colour, t.communal, d.device_id AS "sensorDeviceId",
               ld.dev_eui AS "sensorDevEui", ld.model AS "sensorModel", (ld.calibration->>'innerDepthMm')::int AS "sensorInnerDepthMm",
               (ld.calibration->>'mountOffsetMm')::int AS "sensorMountOffsetMm", (ld.calibration->>'blindZoneMm')::int AS "sensorBlindZoneMm"
               FROM bins t LEFT JOIN devices d ON d.bin_id = t.bin_id LEFT JOIN lorawan_devices ld ON ld.device_id = d.device_id`,
    key: ['t.bin_id'], keyProps: ['binId'], keyTypes: ['text'],
  },
  vehicles: {
    select: `SELECT t.vehicle_id AS "vehicleId", t.registration, t.contractor_id AS "contractorId", t.capacity_kg AS "capacityKg", d.device_id AS "unitDeviceId"
               FROM vehicles t LEFT JOIN devices d ON d.vehicle_id = t.vehicle_id`,
    key: ['t.vehicle_id'], keyProps: ['vehicleId'], keyTypes: ['text'],
  },
  contracts: {
    select: `SELECT contract_id AS "contractId", contractor_id AS "contractorId", name, starts_on AS "startsOn", ends_on AS "endsOn",
               monthly_payment AS "monthlyPayment", target_missed_per_100k AS "targetMissedPer100k", target_on_day_pct AS "targetOnDayPct",
               target_rectified_pct AS "targetRectifiedPct", points_per_miss AS "pointsPerMiss", points_not_rectified AS "pointsNotRectified",
               repeat_multiplier AS "repeatMultiplier", repeat_window_days AS "repeatWindowDays", point_value AS "pointValue",
               deduction_cap_pct AS "deductionCapPct", rectify_working_days AS "rectifyWorkingDays", report_opens_hour AS "reportOpensHour",
               report_window_working_days AS "reportWindowWorkingDays"
               FROM contracts t`,
    key: ['t.contract_id'], keyProps: ['contractId'], keyTypes: ['text'],
  },
  rounds: {
    select: `SELECT round_id AS "roundId", contract_id AS "contractId", name, stream, vehicle_id AS "vehicleId", weekday, frequency,
               anchor_date AS "anchorDate", to_char(starts_at, 'HH24:MI') AS "startsAt", to_char(ends_at, 'HH24:MI') AS "endsAt", subscription, active
               FROM rounds t`,
    key: ['t.round_id'], keyProps: ['roundId'], keyTypes: ['text'],
  },
  subscriptions: {
    select: `SELECT uprn, stream, starts_on AS "startsOn", ends_on AS "endsOn" FROM subscriptions t`,
    key: ['t.uprn', 't.stream', 't.starts_on'], keyProps: ['uprn', 'stream', 'startsOn'], keyTypes: ['bigint', 'text', 'date'],
  },
}

/** Drop nulls: an absent value reads back as the same absent value. */
function compact(row: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(row)) if (row[k] === null) delete row[k]
  return row
}

/** The rows of one entity, a page at a time, in key order (keyset paging: each page is an index range scan). */
export async function* entityPages(db: Queryable, entity: RegistryEntity, pageSize = EXPORT_PAGE): AsyncGenerator<Record<string, unknown>[]> {
  if (entity === 'roundStops') {
    // A round at a time, in driving order.
    const { rows: rounds } = await db.query<{ roundId: string }>(`SELECT round_id AS "roundId" FROM rounds ORDER BY round_id`)
    for (const { roundId } of rounds) {
      const { rows } = await db.query<Record<string, unknown>>(`SELECT round_id AS "roundId", uprn, position FROM round_households WHERE round_id = $1 ORDER BY position, uprn`, [roundId])
      if (rows.length > 0) yield rows
    }
    return
  }
  const src = SOURCES[entity]
  const order = src.key.join(', ')
  const after = `(${order}) > (${src.keyTypes.map((t, i) => `$${i + 2}::${t}`).join(', ')})`
  let last: Record<string, unknown> | null = null
  for (;;) {
    const sql: string = last === null
      ? `${src.select} ORDER BY ${order} LIMIT $1`
      : `${src.select} WHERE ${after} ORDER BY ${order} LIMIT $1`
    const params: unknown[] = last === null ? [pageSize] : [pageSize, ...src.keyProps.map((p) => last![p])]
    const { rows } = await db.query<Record<string, unknown>>(sql, params)
    if (rows.length === 0) return
    last = { ...rows[rows.length - 1]! }
    yield rows.map(compact)
    if (rows.length < pageSize) return
  }
}

/** The whole registry as JSON text, in pieces (write them to a file or an HTTP response). */
export async function* exportJson(db: Queryable, pageSize = EXPORT_PAGE): AsyncGenerator<string> {
  yield '{'
  for (const [i, entity] of REGISTRY_ENTITIES.entries()) {
    yield `${i > 0 ? ',' : ''}\n  ${JSON.stringify(entity)}: [`
    let first = true
    for await (const page of entityPages(db, entity, pageSize)) {
      yield `${first ? '' : ','}\n    ${page.map((r) => JSON.stringify(r)).join(',\n    ')}`
      first = false
    }
    yield first ? ']' : '\n  ]'
  }
  yield '\n}\n'
}

/** Columns of an entity's CSV: every property of its row schema, in schema order. */
export const csvColumns = (entity: RegistryEntity): string[] => Object.keys(ROW_SCHEMAS[entity].properties)

/** One entity as CSV text, in pieces: the header line, then a piece per page. */
export async function* exportCsv(db: Queryable, entity: RegistryEntity, pageSize = EXPORT_PAGE): AsyncGenerator<string> {
  const columns = csvColumns(entity)
  yield stringify([columns])
  for await (const page of entityPages(db, entity, pageSize)) {
    yield stringify(page, { columns, cast: { boolean: (v) => (v ? 'true' : 'false') } })
  }
}
