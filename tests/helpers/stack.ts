// A whole Kerbside stack for a test: real broker on a free port, real ingest over TCP, the API on a
// free port, and the embedded TimescaleDB in a temporary folder (or DATABASE_URL's server, as given).
// Each test builds its own and closes it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { loadConfig, type Config } from '../../core/config.ts'
import { createLogger, silentLogger } from '../../core/log.ts'
import { createContext, startAll, type Context, type Stack } from '../../cli/stack.ts'
import { provisionDevice } from '../../storage/devices.ts'
import type { DeviceKind } from '../../core/contract/topics.ts'
import type { Database } from '../../storage/database.ts'

export interface TestStack {
  ctx: Context
  stack: Stack
  db: Database
  mqttUrl: string
  httpUrl: string
  adminKey: string
  dataDir: string
  close(): Promise<void>
}

export async function startTestStack(overrides: Partial<Config> = {}): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kerbside-test-'))
  const config = loadConfig({}, {
    KERBSIDE_DATA_DIR: dataDir,
    MQTT_HOST: '127.0.0.1', MQTT_PORT: 0, MQTT_WS_PORT: 0,
    HTTP_HOST: '127.0.0.1', HTTP_PORT: 0,
    KERBSIDE_JOBS: false,
    LOG_LEVEL: 'silent',
    INGEST_BATCH_MS: 20,
    ...overrides,
  })
  const logger = process.env.TEST_LOG ? createLogger({ level: process.env.TEST_LOG }) : silentLogger
  const ctx = createContext(config, logger)
  const stack = await startAll(ctx)
  return {
    ctx, stack, db: stack.db, mqttUrl: stack.mqttUrl, httpUrl: stack.api.url, adminKey: ctx.secrets.adminKey, dataDir,
    async close() {
      await stack.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Households, a bin and a vehicle to hang devices on. */
export async function seedMinimalRegistry(db: Database): Promise<void> {
  await db.query(`INSERT INTO contractors (contractor_id, name) VALUES ('c1', 'Test Contractor') ON CONFLICT DO NOTHING`)
  await db.query(`INSERT INTO households (uprn, address, street, postcode, ward, lat, lon) VALUES
    (100000000001, '1 Test Street', 'Test Street', 'L1 1AA', 'Central', 53.4084, -2.9916),
    (100000000002, '2 Test Street', 'Test Street', 'L1 1AA', 'Central', 53.4085, -2.9915) ON CONFLICT DO NOTHING`)
  await db.query(`INSERT INTO bins (bin_id, uprn, stream, rfid_tag, capacity_l) VALUES
    ('bin-1', 100000000001, 'residual', 'TAG-0001', 240), ('bin-2', 100000000002, 'recycling', 'TAG-0002', 240) ON CONFLICT DO NOTHING`)
  await db.query(`INSERT INTO vehicles (vehicle_id, registration, contractor_id) VALUES ('rcv-1', 'KB26 RCV', 'c1') ON CONFLICT DO NOTHING`)
}

export async function provision(db: Database, deviceId: string, kind: DeviceKind, bound: { binId?: string; vehicleId?: string } = {}): Promise<string> {
  return (await provisionDevice(db, { deviceId, kind, ...bound })).secret
}

/** A device's MQTT connection, as a real device would make it (client id = username = device id). */
export async function connectDevice(url: string, deviceId: string, secret: string, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId: deviceId, username: deviceId, password: secret, reconnectPeriod: 0, connectTimeout: 5000, ...extra })
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
    client.once('close', () => reject(new Error(`connection of ${deviceId} closed before CONNACK`)))
  })
  return client
}

/** Poll until `check` is true (data arriving through broker and ingest), or fail after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

export const count = async (db: Database, sql: string, params: unknown[] = []): Promise<number> =>
  Number((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) q`, params)).rows[0]?.n ?? 0)
