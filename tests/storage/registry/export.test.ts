// Export → import gives back the same registry, as JSON and as CSV, whatever the page size.
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import type { RegistryDataset } from '../../../core/contract/registry.ts'
import type { Database } from '../../../storage/database.ts'
import { provisionDevice } from '../../../storage/devices.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { REGISTRY_ENTITIES } from '../../../storage/registry/entities.ts'
import { csvColumns, exportCsv, exportJson } from '../../../storage/registry/export.ts'
import { importCsv, importRegistry } from '../../../storage/registry/import.ts'
import { clearRegistry, smallCity, UPRN0 } from './fixture.ts'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
})
afterAll(async () => db?.close())
beforeEach(async () => {
  await clearRegistry(db)
  await provisionDevice(db, { deviceId: 'sensor-1', kind: 'bin', secret: 'x'.repeat(32) })
  await provisionDevice(db, { deviceId: 'unit-1', kind: 'vehicle', secret: 'x'.repeat(32) })
  const city = smallCity()
  city.bins[0]!.sensorDeviceId = 'sensor-1'
  city.vehicles[0]!.unitDeviceId = 'unit-1'
  city.households.push({ uprn: 999_999_999_999, address: 'Only the required fields' })
  const report = await importRegistry(db, city, { calendar: false })
  expect(report.errors).toEqual([])
})

const text = async (pieces: AsyncIterable<string>) => {
  let s = ''
  for await (const p of pieces) s += p
  return s
}

/** Every registry table's content, without timestamps: what "the same registry" means. */
async function snapshot(): Promise<Record<string, unknown[]>> {
  const q = async (sql: string) => (await db.query(sql)).rows
  return {
    contractors: await q(`SELECT contractor_id, name FROM contractors ORDER BY 1`),
    households: await q(`SELECT uprn, address, street, postcode, ward, lat, lon, assisted, crm_ref FROM households ORDER BY 1`),
    bins: await q(`SELECT bin_id, uprn, stream, rfid_tag, capacity_l, colour, communal, active FROM bins ORDER BY 1`),
    vehicles: await q(`SELECT vehicle_id, registration, contractor_id, capacity_kg FROM vehicles ORDER BY 1`),
    contracts: await q(`SELECT * FROM contracts ORDER BY 1`).then((rows) => rows.map(({ created_at: _c, ...r }) => r)),
    rounds: await q(`SELECT * FROM rounds ORDER BY 1`).then((rows) => rows.map(({ updated_at: _u, ...r }) => r)),
    stops: await q(`SELECT round_id, uprn, position FROM round_households ORDER BY 1, 3`),
    subscriptions: await q(`SELECT * FROM subscriptions ORDER BY 1, 2, 3`),
    devices: await q(`SELECT device_id, bin_id, vehicle_id FROM devices ORDER BY 1`),
  }
}

/** Empty the registry but keep the provisioned devices (as a council re-loading its registry would). */
async function emptyKeepingDevices() {
  await db.query(`UPDATE devices SET bin_id = NULL, vehicle_id = NULL`)
  for (const t of ['scheduled_collections', 'subscriptions', 'round_households', 'rounds', 'contracts', 'bins', 'vehicles', 'households', 'contractors']) await db.query(`DELETE FROM ${t}`)
}

test('JSON: export → import gives the same registry, and the same export', async () => {
  const before = await snapshot()
  const json = await text(exportJson(db))
  const dataset = JSON.parse(json) as Required<RegistryDataset>
  expect(dataset.households.find((h) => h.uprn === UPRN0)).toEqual({ uprn: UPRN0, address: '1 Test Street', street: 'Test Street', postcode: 'L1 1AA', ward: 'South', lat: 53.4, lon: -2.99, assisted: true, crmRef: 'CRM-1' })
  expect(dataset.households.at(-1)).toEqual({ uprn: 999_999_999_999, address: 'Only the required fields', assisted: false })
  expect(dataset.bins.find((b) => b.binId === 'b-1-r')?.sensorDeviceId).toBe('sensor-1')
  expect(dataset.roundStops.filter((s) => s.roundId === 'mon-rec').map((s) => s.position)).toEqual([0, 1, 2, 3, 4, 5])

  await emptyKeepingDevices()
  const report = await importRegistry(db, dataset, { calendar: false })
  expect(report.errors).toEqual([])
  expect(await snapshot()).toEqual(before)
  expect(await text(exportJson(db))).toBe(json)
})

test('JSON export pages through each entity in key order, whatever the page size', async () => {
  expect(await text(exportJson(db, 2))).toBe(await text(exportJson(db)))
  expect(await text(exportJson(db, 1))).toBe(await text(exportJson(db)))
})

test('CSV: export → import gives the same registry, and the same files', async () => {
  const before = await snapshot()
  const files = Object.fromEntries(await Promise.all(REGISTRY_ENTITIES.map(async (e) => [e, await text(exportCsv(db, e, 3))] as const)))
  expect(files.households!.split('\n')[0]).toBe(csvColumns('households').join(','))
  // The last six columns: sensorDeviceId, then the LoRaWAN sensor's DevEUI, model and calibration (docs/lorawan.md), all empty here.
  expect(files.bins!.split('\n')[1]).toBe('b-1-c,100000000001,recycling,TAG-1-C,240,blue,false,,,,,,')
  await emptyKeepingDevices()
  const report = await importCsv(db, files, { calendar: false })
  expect(report.errors).toEqual([])
  expect(await snapshot()).toEqual(before)
  for (const e of REGISTRY_ENTITIES) expect(await text(exportCsv(db, e))).toBe(files[e])
})

test('an empty registry exports as empty lists and header-only files', async () => {
  await clearRegistry(db)
  expect(JSON.parse(await text(exportJson(db)))).toEqual(Object.fromEntries(REGISTRY_ENTITIES.map((e) => [e, []])))
  expect(await text(exportCsv(db, 'rounds'))).toBe(`${csvColumns('rounds').join(',')}\n`)
})
