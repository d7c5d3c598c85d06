// Devices: provisioning, credentials for the broker, and the registry view that ingest needs.
import type { DeviceKind } from '../core/contract/topics.ts'
import { generateSecret, hashSecret } from '../core/secrets.ts'
import type { Queryable } from './database.ts'

export interface DeviceRecord {
  deviceId: string
  kind: DeviceKind
  binId: string | null
  vehicleId: string | null
  createdAt: Date
  revokedAt: Date | null
  lastSeq: number | null
  lastTs: Date | null
  online: boolean | null
  onlineSince: Date | null
}

export class DeviceConflictError extends Error {
  override name = 'KERBSIDE_ERR_DEVICE_CONFLICT'
}
export class NotFoundError extends Error {
  override name = 'KERBSIDE_ERR_NOT_FOUND'
}

const SELECT_DEVICE = `SELECT device_id AS "deviceId", kind, bin_id AS "binId", vehicle_id AS "vehicleId", created_at AS "createdAt",
  revoked_at AS "revokedAt", last_seq AS "lastSeq", last_ts AS "lastTs", online, online_since AS "onlineSince" FROM devices`

/**
 * Kerbside's own services log in to the broker with usernames starting with this prefix and the
 * shared service secret (broker/device-auth.ts), so no device id may start with it (SECURITY.md).
 */
export const RESERVED_DEVICE_PREFIX = 'kerbside-'

export class ReservedDeviceIdError extends Error {
  override name = 'KERBSIDE_ERR_RESERVED_DEVICE_ID'
}

function refuseReserved(deviceId: string): void {
  if (deviceId.toLowerCase().startsWith(RESERVED_DEVICE_PREFIX)) {
    throw new ReservedDeviceIdError(`Device id ${deviceId} starts with "${RESERVED_DEVICE_PREFIX}", which is reserved for Kerbside's own services on the broker: choose another id.`)
  }
}

/** Register a device and return its secret; the secret is shown this once and only its hash is kept. */
export async function provisionDevice(db: Queryable, input: { deviceId: string; kind: DeviceKind; binId?: string; vehicleId?: string; secret?: string }): Promise<{ device: DeviceRecord; secret: string }> {
  refuseReserved(input.deviceId)
  const secret = input.secret ?? generateSecret()
  const secretHash = await hashSecret(secret)
  try {
    await db.query(
      `INSERT INTO devices (device_id, kind, secret_hash, bin_id, vehicle_id) VALUES ($1, $2, $3, $4, $5)`,
      [input.deviceId, input.kind, secretHash, input.binId ?? null, input.vehicleId ?? null],
    )
  } catch (err) {
    const e = err as { code?: string; message: string }
    if (e.code === '23505') throw new DeviceConflictError(`device ${input.deviceId} already exists, or its bin or vehicle already has a device`)
    if (e.code === '23503') throw new NotFoundError(`${input.binId ? `bin ${input.binId}` : `vehicle ${input.vehicleId}`} is not in the registry`)
    throw err
  }
  const device = await getDevice(db, input.deviceId)
  return { device: device!, secret }
}

/** Provision many devices in one statement (simulators, imports). Hashing dominates: ~25 ms each. */
export async function provisionDevices(db: Queryable, rows: { deviceId: string; kind: DeviceKind; binId?: string | null; vehicleId?: string | null; secretHash: string }[]): Promise<number> {
  if (rows.length === 0) return 0
  for (const r of rows) refuseReserved(r.deviceId)
  const res = await db.query(
    `INSERT INTO devices (device_id, kind, secret_hash, bin_id, vehicle_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
     ON CONFLICT (device_id) DO NOTHING`,
    [rows.map((r) => r.deviceId), rows.map((r) => r.kind), rows.map((r) => r.secretHash), rows.map((r) => r.binId ?? null), rows.map((r) => r.vehicleId ?? null)],
  )
  return res.rowCount
}

export async function getDevice(db: Queryable, deviceId: string): Promise<DeviceRecord | null> {
  const { rows } = await db.query<DeviceRecord>(`${SELECT_DEVICE} WHERE device_id = $1`, [deviceId])
  return rows[0] ?? null
}

export async function listDevices(db: Queryable, opts: { kind?: DeviceKind; limit: number; offset: number }): Promise<DeviceRecord[]> {
  const { rows } = await db.query<DeviceRecord>(`${SELECT_DEVICE} WHERE ($1::text IS NULL OR kind = $1) ORDER BY device_id LIMIT $2 OFFSET $3`, [opts.kind ?? null, opts.limit, opts.offset])
  return rows
}

/** Devices revoked in the last `withinSeconds` (by the database's clock): the broker disconnects them. */
export async function devicesRevokedRecently(db: Queryable, withinSeconds: number): Promise<string[]> {
  const { rows } = await db.query<{ deviceId: string }>(
    `SELECT device_id AS "deviceId" FROM devices WHERE revoked_at IS NOT NULL AND revoked_at > now() - make_interval(secs => $1)`, [withinSeconds])
  return rows.map((r) => r.deviceId)
}

export async function revokeDevice(db: Queryable, deviceId: string): Promise<boolean> {
  const res = await db.query(`UPDATE devices SET revoked_at = now() WHERE device_id = $1 AND revoked_at IS NULL`, [deviceId])
  return res.rowCount > 0
}

/** What the broker needs to check a device's login. */
export interface DeviceCredentials {
  deviceId: string
  kind: DeviceKind
  secretHash: string
  revoked: boolean
}

export async function deviceCredentials(db: Queryable, deviceId: string): Promise<DeviceCredentials | null> {
  const { rows } = await db.query<{ kind: DeviceKind; secretHash: string; revoked: boolean }>(
    `SELECT kind, secret_hash AS "secretHash", revoked_at IS NOT NULL AS revoked FROM devices WHERE device_id = $1`,
    [deviceId],
  )
  const row = rows[0]
  return row ? { deviceId, ...row } : null
}

/** What ingest needs to file a message: which bin or vehicle (and household) a device belongs to. */
export interface DeviceBinding {
  deviceId: string
  kind: DeviceKind
  binId: string | null
  uprn: number | null
  vehicleId: string | null
  lastSeq: number | null
}

export async function deviceBindings(db: Queryable, deviceIds: readonly string[]): Promise<DeviceBinding[]> {
  const { rows } = await db.query<DeviceBinding>(
    `SELECT d.device_id AS "deviceId", d.kind, d.bin_id AS "binId", b.uprn, d.vehicle_id AS "vehicleId", d.last_seq AS "lastSeq"
       FROM devices d LEFT JOIN bins b ON b.bin_id = d.bin_id
      WHERE d.device_id = ANY($1::text[]) AND d.revoked_at IS NULL`,
    [deviceIds],
  )
  return rows
}
