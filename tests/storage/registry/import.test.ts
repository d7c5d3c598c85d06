// Registry import from JSON on the embedded database: all or nothing, every error with its row,
// upserts, device links, tags that move between bins, stops that leave a round, dry runs.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import type { RegistryDataset } from '../../../core/contract/registry.ts'
import type { Database } from '../../../storage/database.ts'
import { provisionDevice } from '../../../storage/devices.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { ImportBusyError, importRegistry, type ImportProgress } from '../../../storage/registry/import.ts'
import { clearRegistry, smallCity, tableCounts, UPRN0 } from './fixture.ts'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
})
afterAll(async () => db?.close())
beforeEach(async () => clearRegistry(db))

const noCalendar = { calendar: false } as const

describe('a valid registry', () => {
  test('is imported whole, with counts per entity and progress', async () => {
    const progress: ImportProgress[] = []
    const report = await importRegistry(db, smallCity(), { ...noCalendar, onProgress: (p) => progress.push(p) })
    expect(report.errors).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.counts.households).toEqual({ inserted: 6, updated: 0, unchanged: 0, removed: 0 })
    expect(report.counts.bins.inserted).toBe(12)
    expect(report.counts.roundStops.inserted).toBe(18)
    expect(await tableCounts(db)).toMatchObject({ households: 6, bins: 12, rounds: 3, round_households: 18, subscriptions: 2, contracts: 1, vehicles: 1, contractors: 1 })
    expect(progress).toContainEqual({ entity: 'bins', done: 12, total: 12 })
    const { rows } = await db.query(`SELECT uprn, assisted, crm_ref, lat FROM households WHERE uprn = $1`, [UPRN0])
    expect(rows[0]).toEqual({ uprn: UPRN0, assisted: true, crm_ref: 'CRM-1', lat: 53.4 })
    const { rows: contracts } = await db.query(`SELECT monthly_payment AS pay, target_missed_per_100k AS target, point_value AS pv FROM contracts`)
    expect(contracts[0]).toEqual({ pay: 850000.5, target: 25, pv: 50 })
  })

  test('a second import updates what changed and counts the rest unchanged', async () => {
    await importRegistry(db, smallCity(), noCalendar)
    const city = smallCity()
    city.households[1]!.address = '2A Test Street'
    city.households.push({ uprn: UPRN0 + 100, address: 'New House' })
    const report = await importRegistry(db, { households: city.households }, noCalendar)
    expect(report.counts.households).toEqual({ inserted: 1, updated: 1, unchanged: 5, removed: 0 })
    expect((await db.query(`SELECT address FROM households WHERE uprn = $1`, [UPRN0 + 1])).rows[0]).toEqual({ address: '2A Test Street' })
  })

  test('a file states the whole row: a field left out takes its default', async () => {
    await importRegistry(db, smallCity(), noCalendar)
    await importRegistry(db, { households: [{ uprn: UPRN0, address: '1 Test Street' }] }, noCalendar)
    expect((await db.query(`SELECT assisted, crm_ref, street FROM households WHERE uprn = $1`, [UPRN0])).rows[0]).toEqual({ assisted: false, crm_ref: null, street: null })
  })

  test('postcodes are taken as people type them', async () => {
    const report = await importRegistry(db, { households: [{ uprn: 5, address: 'x', postcode: ' l1  8jq ' }] }, noCalendar)
    expect(report.ok).toBe(true)
    expect((await db.query(`SELECT postcode FROM households WHERE uprn = 5`)).rows[0]).toEqual({ postcode: 'L1 8JQ' })
  })

  test('a round listed in roundStops gets exactly the stops given: the others have left it', async () => {
    await importRegistry(db, smallCity(), noCalendar)
    const stops = [{ roundId: 'mon-res', uprn: UPRN0 + 2, position: 0 }, { roundId: 'mon-res', uprn: UPRN0, position: 1 }]
    const report = await importRegistry(db, { roundStops: stops }, noCalendar)
    expect(report.counts.roundStops).toEqual({ inserted: 0, updated: 2, unchanged: 0, removed: 4 })
    const { rows } = await db.query(`SELECT uprn FROM round_households WHERE round_id = 'mon-res' ORDER BY position`)
    expect(rows).toEqual([{ uprn: UPRN0 + 2 }, { uprn: UPRN0 }])
    // Rounds not in the file keep their stops.
    expect((await db.query(`SELECT count(*)::int AS n FROM round_households WHERE round_id = 'mon-rec'`)).rows[0]).toEqual({ n: 6 })
  })

  test('imports run one at a time: a second one while the first runs is refused, not interleaved', async () => {
    const first = importRegistry(db, smallCity(), noCalendar)
    await expect(importRegistry(db, smallCity(), noCalendar)).rejects.toThrow(ImportBusyError)
    expect((await first).ok).toBe(true)
    expect((await importRegistry(db, smallCity(), noCalendar)).counts.households.unchanged).toBe(6)
  })

  test('a dry run checks and counts but keeps nothing', async () => {
    const before = await tableCounts(db)
    const report = await importRegistry(db, smallCity(), { dryRun: true })
    expect(report).toMatchObject({ ok: true, dryRun: true })
    expect(report.counts.bins.inserted).toBe(12)
    expect(report.calendar).toBeUndefined()
    expect(await tableCounts(db)).toEqual(before)
  })
})

describe('devices', () => {
  test('a sensor and a vehicle unit are fitted; a replacement sensor takes over its bin', async () => {
    await importRegistry(db, smallCity(), noCalendar)
    await provisionDevice(db, { deviceId: 'sensor-1', kind: 'bin', secret: 'x'.repeat(32) })
    await provisionDevice(db, { deviceId: 'sensor-2', kind: 'bin', secret: 'x'.repeat(32) })
    await provisionDevice(db, { deviceId: 'unit-1', kind: 'vehicle', secret: 'x'.repeat(32) })
    const city = smallCity()
    city.bins[0]!.sensorDeviceId = 'sensor-1'
    city.vehicles[0]!.unitDeviceId = 'unit-1'
    expect((await importRegistry(db, { bins: city.bins, vehicles: city.vehicles }, noCalendar)).ok).toBe(true)
    const links = async () => (await db.query(`SELECT device_id AS id, bin_id AS bin, vehicle_id AS vehicle FROM devices ORDER BY device_id`)).rows
    expect(await links()).toEqual([{ id: 'sensor-1', bin: 'b-1-r', vehicle: null }, { id: 'sensor-2', bin: null, vehicle: null }, { id: 'unit-1', bin: null, vehicle: 'rcv-1' }])
    city.bins[0]!.sensorDeviceId = 'sensor-2'
    expect((await importRegistry(db, { bins: [city.bins[0]!] }, noCalendar)).ok).toBe(true)
    expect(await links()).toEqual([{ id: 'sensor-1', bin: null, vehicle: null }, { id: 'sensor-2', bin: 'b-1-r', vehicle: null }, { id: 'unit-1', bin: null, vehicle: 'rcv-1' }])
  })

  test('unregistered devices, devices of the wrong kind and one device on two bins are errors', async () => {
    await provisionDevice(db, { deviceId: 'unit-9', kind: 'vehicle', secret: 'x'.repeat(32) })
    await provisionDevice(db, { deviceId: 'sensor-9', kind: 'bin', secret: 'x'.repeat(32) })
    const city = smallCity()
    city.bins[0]!.sensorDeviceId = 'sensor-404'
    city.bins[1]!.sensorDeviceId = 'unit-9'
    city.bins[2]!.sensorDeviceId = 'sensor-9'
    city.bins[3]!.sensorDeviceId = 'sensor-9'
    const before = await tableCounts(db)
    const report = await importRegistry(db, city)
    expect(report.ok).toBe(false)
    expect(report.errors).toEqual([
      { entity: 'bins', row: 1, field: 'sensorDeviceId', message: expect.stringContaining('device sensor-404 is not registered') },
      { entity: 'bins', row: 2, field: 'sensorDeviceId', message: 'device unit-9 is a vehicle device, not a bin device' },
      { entity: 'bins', row: 4, field: 'sensorDeviceId', message: 'device sensor-9 is also fitted to bin b-2-r (row 3)' },
    ])
    expect(await tableCounts(db)).toEqual(before)
  })
})

describe('RFID tags', () => {
  test('a tag may pass from one bin to another in the same file (tags swapped)', async () => {
    await importRegistry(db, smallCity(), noCalendar)
    const city = smallCity()
    const [a, b] = [city.bins[0]!, city.bins[1]!]
    ;[a.rfidTag, b.rfidTag] = [b.rfidTag, a.rfidTag]
    const report = await importRegistry(db, { bins: [a, b] }, noCalendar)
    expect(report.errors).toEqual([])
    expect((await db.query(`SELECT bin_id, rfid_tag FROM bins WHERE bin_id IN ('b-1-r', 'b-1-c') ORDER BY bin_id`)).rows)
      .toEqual([{ bin_id: 'b-1-c', rfid_tag: 'TAG-1-R' }, { bin_id: 'b-1-r', rfid_tag: 'TAG-1-C' }])
  })

  test('a tag that another bin of the registry keeps is an error', async () => {
    await importRegistry(db, smallCity(), noCalendar)
    const report = await importRegistry(db, { bins: [{ binId: 'b-new', uprn: UPRN0, stream: 'food', rfidTag: 'TAG-3-R' }] }, noCalendar)
    expect(report.errors).toEqual([{ entity: 'bins', row: 1, field: 'rfidTag', message: 'RFID tag TAG-3-R is on bin b-3-r in the registry' }])
    expect((await db.query(`SELECT count(*)::int AS n FROM bins`)).rows[0]).toEqual({ n: 12 })
  })
})

describe('an invalid registry imports nothing and reports every error with its row', () => {
  test('bad UPRNs: 0, 13 digits, text, a fraction', async () => {
    const city = smallCity()
    const households = city.households as unknown as Record<string, unknown>[]
    households.push({ uprn: 0, address: 'Zero' }, { uprn: 1_234_567_890_123, address: 'Thirteen digits' }, { uprn: 'ABC123', address: 'Text' })
    ;(city.bins as unknown as Record<string, unknown>[])[5]!.uprn = 12.5
    const before = await tableCounts(db)
    const report = await importRegistry(db, city)
    expect(report.ok).toBe(false)
    expect(report.errors).toEqual([
      { entity: 'households', row: 7, field: 'uprn', message: 'expected integer to be greater or equal to 1 (got 0)' },
      { entity: 'households', row: 8, field: 'uprn', message: 'expected integer to be less or equal to 999999999999 (got 1234567890123)' },
      { entity: 'households', row: 9, field: 'uprn', message: 'expected integer (got "ABC123")' },
      { entity: 'bins', row: 6, field: 'uprn', message: 'expected integer (got 12.5)' },
    ])
    expect(report.counts.households.inserted).toBe(0)
    expect(await tableCounts(db)).toEqual(before)
  })

  test('every invalid field of a row is reported, and unknown fields too', async () => {
    const report = await importRegistry(db, { households: [{ uprn: 7, address: '', postcode: 'NOT A POSTCODE', lat: 123, colour: 'red' } as never] }, noCalendar)
    expect(report.errors.map((e) => [e.row, e.field])).toEqual([[1, 'address'], [1, 'colour'], [1, 'lat'], [1, 'postcode']])
    expect(report.errors.find((e) => e.field === 'colour')?.message).toBe('is not a field of this entity')
    expect(report.errors.find((e) => e.field === 'lat')?.message).toBe('expected number to be less or equal to 90 (got 123)')
  })

  test('duplicate keys and tags within the file', async () => {
    const city = smallCity()
    city.households.push({ ...city.households[0]! })
    city.bins[5]!.rfidTag = 'TAG-1-R'
    city.roundStops.push({ roundId: 'mon-res', uprn: UPRN0 + 1, position: 99 })
    const report = await importRegistry(db, city)
    expect(report.errors).toEqual([
      { entity: 'households', row: 7, field: 'uprn', message: `duplicate uprn ${UPRN0} (first at row 1)` },
      { entity: 'bins', row: 6, field: 'rfidTag', message: 'RFID tag TAG-1-R is also given to bin b-1-r (row 1)' },
      { entity: 'roundStops', row: 19, message: `duplicate roundId + uprn mon-res + ${UPRN0 + 1} (first at row 2)` },
    ])
    expect((await tableCounts(db)).households).toBe(0)
  })

  test('references that exist neither in the file nor in the registry', async () => {
    await importRegistry(db, { contractors: [{ contractorId: 'acme', name: 'Acme' }], households: [{ uprn: 42, address: 'x' }] }, noCalendar)
    const before = await tableCounts(db)
    const report = await importRegistry(db, {
      // Known from the registry (acme, 42) or the file (k1, r1): fine. The rest are not.
      contracts: [{ contractId: 'k1', contractorId: 'acme', name: 'k', startsOn: '2026-01-01' }, { contractId: 'k2', contractorId: 'nobody', name: 'k', startsOn: '2026-01-01' }],
      rounds: [{ roundId: 'r1', contractId: 'k1', name: 'r', stream: 'residual', weekday: 1, frequency: 'weekly', anchorDate: '2026-01-05', vehicleId: 'rcv-404' }],
      roundStops: [{ roundId: 'r1', uprn: 42, position: 0 }, { roundId: 'r1', uprn: 43, position: 1 }, { roundId: 'no-such-round', uprn: 42, position: 0 }],
      bins: [{ binId: 'b', uprn: 44, stream: 'residual' }],
      subscriptions: [{ uprn: 45, stream: 'garden', startsOn: '2026-01-01' }],
    })
    expect(report.errors).toEqual([
      { entity: 'bins', row: 1, field: 'uprn', message: 'no household with UPRN 44 in the file or in the registry' },
      { entity: 'contracts', row: 2, field: 'contractorId', message: 'no contractor nobody in the file or in the registry' },
      { entity: 'rounds', row: 1, field: 'vehicleId', message: 'no vehicle rcv-404 in the file or in the registry' },
      { entity: 'roundStops', row: 2, field: 'uprn', message: 'no household with UPRN 43 in the file or in the registry' },
      { entity: 'roundStops', row: 3, field: 'roundId', message: 'no round no-such-round in the file or in the registry' },
      { entity: 'subscriptions', row: 1, field: 'uprn', message: 'no household with UPRN 45 in the file or in the registry' },
    ])
    expect(await tableCounts(db)).toEqual(before)
  })

  test('a row that is itself invalid is not reported again as an unknown reference', async () => {
    const city = smallCity()
    city.households[0]!.postcode = 'nonsense'
    const report = await importRegistry(db, city)
    expect(report.errors).toEqual([{ entity: 'households', row: 1, field: 'postcode', message: expect.stringContaining('NONSENSE') }])
  })

  test('rules between fields: anchor day on the weekday, real days, ends after starts, one household per position', async () => {
    const city = smallCity()
    city.rounds[0]!.anchorDate = '2026-01-06'
    city.rounds[1]!.anchorDate = '2026-02-30'
    city.contracts[0]!.endsOn = '2024-01-01'
    city.subscriptions[0]!.endsOn = '2020-01-01'
    city.roundStops[1]!.position = 0
    const report = await importRegistry(db, city)
    expect(report.errors).toEqual([
      { entity: 'contracts', row: 1, field: 'endsOn', message: 'ends (2024-01-01) before it starts (2024-04-01)' },
      { entity: 'rounds', row: 1, field: 'anchorDate', message: "2026-01-06 is a Tuesday, but the round's weekday is 1 (Monday)" },
      { entity: 'rounds', row: 2, field: 'anchorDate', message: 'is not a real day (got "2026-02-30")' },
      { entity: 'roundStops', row: 2, field: 'position', message: `position 0 on round mon-res is already UPRN ${UPRN0} (row 1)` },
      { entity: 'subscriptions', row: 1, field: 'endsOn', message: 'ends (2020-01-01) before it starts (2025-03-01)' },
    ])
  })

  test('a dataset of the wrong shape', async () => {
    const report = await importRegistry(db, { households: 'none', lorries: [] } as unknown as RegistryDataset)
    expect(report.errors).toEqual([
      { entity: 'lorries', row: 0, message: expect.stringContaining('unknown entity lorries') },
      { entity: 'households', row: 0, message: 'households must be a list of rows' },
    ])
    expect((await importRegistry(db, [] as unknown as RegistryDataset)).errors[0]).toMatchObject({ entity: 'dataset', row: 0 })
  })

  test('a valid part next to an invalid one is not written either', async () => {
    const city = smallCity()
    city.bins[11]!.stream = 'plastic' as never
    const report = await importRegistry(db, city)
    expect(report.errors).toEqual([{ entity: 'bins', row: 12, field: 'stream', message: 'must be one of residual, recycling, garden, food, glass (got "plastic")' }])
    expect(Object.values(await tableCounts(db)).every((n) => n === 0)).toBe(true)
  })
})
