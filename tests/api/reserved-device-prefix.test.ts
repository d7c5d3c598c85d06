// Regression for issue 19 (LOW): a device id starting with `kerbside-` could be provisioned, though
// that prefix is the broker's mark of Kerbside's own services (SECURITY.md). Refused with a 400
// saying why at provisioning, in bulk provisioning, and by the registry import.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { provisionDevices, ReservedDeviceIdError } from '../../storage/devices.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { importRegistry } from '../../storage/registry/import.ts'
import { smallCity } from '../storage/registry/fixture.ts'

const ADMIN = 'admin-key-for-reserved-prefix-tests-0'
let db: Database
let app: Api
beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  expect((await importRegistry(db, smallCity(2))).ok).toBe(true)
})
afterAll(async () => { await app?.close(); await db?.close() })

test.each(['kerbside-live', 'kerbside-ingest-2', 'Kerbside-x'])('POST /api/v1/devices %s: 400 saying the prefix is reserved; nothing stored', async (deviceId) => {
  const res = await app.inject({ method: 'POST', url: '/api/v1/devices', headers: { authorization: `Bearer ${ADMIN}` }, payload: { deviceId, kind: 'bin', binId: 'b-1-r' } })
  expect(res.statusCode).toBe(400)
  expect(res.json()).toMatchObject({ code: 'KERBSIDE_ERR_RESERVED_DEVICE_ID', message: expect.stringContaining('reserved') })
  expect((await db.query(`SELECT 1 FROM devices WHERE device_id = $1`, [deviceId])).rowCount).toBe(0)
})

test('bulk provisioning refuses the prefix too; an ordinary id is fine', async () => {
  await expect(provisionDevices(db, [{ deviceId: 'kerbside-sim', kind: 'bin', secretHash: '!' }])).rejects.toThrow(ReservedDeviceIdError)
  expect((await app.inject({ method: 'POST', url: '/api/v1/devices', headers: { authorization: `Bearer ${ADMIN}` }, payload: { deviceId: 'sensor-kerbside-1', kind: 'bin', binId: 'b-1-r' } })).statusCode).toBe(201)
})

test('the registry import refuses a sensor id with the prefix, with its row', async () => {
  const city = smallCity(2)
  city.bins[0]!.sensorDeviceId = 'kerbside-live'
  const report = await importRegistry(db, city)
  expect(report.ok).toBe(false)
  expect(report.errors).toContainEqual(expect.objectContaining({ entity: 'bins', field: 'sensorDeviceId', message: expect.stringContaining('reserved') }))
})
