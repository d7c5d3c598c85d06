// LoRaWAN sensors in the registry import (CSV and JSON): the bins' sensorDevEui, sensorModel and
// calibration columns register each sensor with its model; the export gives them back; a sensor on
// two bins, an unknown model or a bin that already has a device are refused with their row.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { getLoRaWANDevice } from '../../storage/lorawan-devices.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { entityPages } from '../../storage/registry/export.ts'
import { importCsv, importRegistry } from '../../storage/registry/import.ts'
import { verifySecret } from '../../core/secrets.ts'

let db: Database
beforeAll(async () => { db = await openDatabase({ logger: silentLogger }) }, 120_000)
afterAll(async () => db?.close())

const noCalendar = { calendar: false } as const
const households = 'uprn,address\n100000000101,1 Sensor Street\n100000000102,2 Sensor Street\n100000000103,3 Sensor Street\n'

test('CSV bins with LoRaWAN sensors register them, with model and calibration; the export gives them back', async () => {
  const bins = 'binId,uprn,stream,capacityL,sensorDeviceId,sensorDevEui,sensorModel,sensorInnerDepthMm,sensorBlindZoneMm\n'
    + 'lw-b-1,100000000101,residual,240,,24E124713B150001,milesight-em310-udl,,\n'
    + 'lw-b-2,100000000102,recycling,360,,a84041000181c602,dragino-ldds75,980,30\n'
    + 'lw-b-3,100000000103,garden,240,,,,,\n'
  const report = await importCsv(db, { households, bins }, noCalendar)
  expect(report.errors).toEqual([])
  expect(await getLoRaWANDevice(db, '24E124713B150001')).toMatchObject({ deviceId: 'lw-24e124713b150001', model: 'milesight-em310-udl', binId: 'lw-b-1', calibration: {} })
  expect(await getLoRaWANDevice(db, 'A84041000181C602')).toMatchObject({ model: 'dragino-ldds75', binId: 'lw-b-2', capacityL: 360, calibration: { innerDepthMm: 980, blindZoneMm: 30 } })
  // The sensor's device can never log in to the broker.
  const { rows } = await db.query<{ h: string }>(`SELECT secret_hash AS h FROM devices WHERE device_id = 'lw-24e124713b150001'`)
  expect(await verifySecret('', rows[0]!.h)).toBe(false)

  const all = async (entity: 'households' | 'bins') => { const out: Record<string, unknown>[] = []; for await (const page of entityPages(db, entity)) out.push(...page); return out }
  const dataset = { households: await all('households'), bins: await all('bins') }
  const exported = dataset.bins.find((b) => b.binId === 'lw-b-2')
  expect(exported).toMatchObject({ sensorDeviceId: 'lw-a84041000181c602', sensorDevEui: 'A84041000181C602', sensorModel: 'dragino-ldds75', sensorInnerDepthMm: 980, sensorBlindZoneMm: 30 })
  expect(exported).not.toHaveProperty('sensorMountOffsetMm')
  expect(dataset.bins.find((b) => b.binId === 'lw-b-3')).not.toHaveProperty('sensorDevEui')
  // Importing the export again changes nothing and refuses nothing.
  const again = await importRegistry(db, dataset as never, noCalendar)
  expect(again.errors).toEqual([])
  expect(again.counts.bins).toMatchObject({ inserted: 0, updated: 0 })
})

test('a DevEUI on two bins, an unknown model, or a bin that already has another sensor: refused with the row, nothing written', async () => {
  const bins = 'binId,uprn,stream,sensorDeviceId,sensorDevEui,sensorModel\n'
    + 'lw-b-3,100000000103,garden,,24E124713B150009,milesight-em400-udl\n'
    + 'lw-b-4,100000000103,food,,24E124713B150009,milesight-em400-udl\n'
    + 'lw-b-5,100000000103,glass,,24E124713B15000A,acme-bin-eye\n'
    + 'lw-b-1,100000000101,residual,,24E124713B15000B,milesight-em310-udl\n'
  const report = await importCsv(db, { bins }, noCalendar)
  expect(report.errors.map((e) => [e.row, e.field, e.message])).toEqual([
    [2, 'sensorDevEui', 'DevEUI 24E124713B150009 is also on bin lw-b-3 (row 1)'],
    [3, 'sensorModel', expect.stringContaining('a LoRaWAN sensor needs its model, one of milesight-em310-udl')],
    [4, 'sensorDevEui', 'bin lw-b-1 already has the device lw-24e124713b150001; revoke it or take it off the bin first'],
  ])
  expect(await getLoRaWANDevice(db, '24E124713B150009')).toBeNull()
})
