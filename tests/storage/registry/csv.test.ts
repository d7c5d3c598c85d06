// The registry as CSV files: header checks, strict cell types, empty cells, and row numbers that
// match the lines a council officer sees in a spreadsheet (data row n = line n + 1).
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { coerceCell, entityOfFile, parseEntityCsv } from '../../../storage/registry/csv.ts'
import { importCsv } from '../../../storage/registry/import.ts'
import { clearRegistry, tableCounts } from './fixture.ts'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
})
afterAll(async () => db?.close())
beforeEach(async () => clearRegistry(db))

const HOUSEHOLDS = `uprn,address,street,postcode,ward,lat,lon,assisted,crmRef
100000000001,"1 Dale Street, Liverpool",Dale Street,L2 2DH,Central,53.4076,-2.9893,true,CRM-1
100000000002,2 Dale Street,Dale Street,l2 2dh,Central,,,,
`
const BINS = `binId,uprn,stream,rfidTag,capacityL,colour,communal
b1,100000000001,residual,T1,240,black,false
b2,100000000002,recycling,T2,240,blue,
`
const NO_CALENDAR = { calendar: false } as const

describe('a valid CSV import', () => {
  test('households and bins; empty cells are absent values', async () => {
    const report = await importCsv(db, { households: HOUSEHOLDS, bins: BINS }, NO_CALENDAR)
    expect(report.errors).toEqual([])
    expect(report.counts.households.inserted).toBe(2)
    expect(report.counts.bins.inserted).toBe(2)
    const { rows } = await db.query(`SELECT uprn, address, postcode, lat, assisted, crm_ref FROM households ORDER BY uprn`)
    expect(rows).toEqual([
      { uprn: 100000000001, address: '1 Dale Street, Liverpool', postcode: 'L2 2DH', lat: 53.4076, assisted: true, crm_ref: 'CRM-1' },
      { uprn: 100000000002, address: '2 Dale Street', postcode: 'L2 2DH', lat: null, assisted: false, crm_ref: null },
    ])
  })

  test('only the required columns, in any order, with a byte-order mark and Windows line ends', async () => {
    const report = await importCsv(db, { households: '\uFEFFaddress,uprn\r\n1 Lime Street,5\r\n' }, NO_CALENDAR)
    expect(report.errors).toEqual([])
    expect((await db.query(`SELECT uprn, address FROM households`)).rows).toEqual([{ uprn: 5, address: '1 Lime Street' }])
  })
})

describe('a broken CSV imports nothing', () => {
  test('a missing required column is one error for the file', async () => {
    const report = await importCsv(db, { households: HOUSEHOLDS, bins: 'binId,stream\nb1,residual\nb2,residual\n' })
    expect(report.ok).toBe(false)
    expect(report.errors).toEqual([{ entity: 'bins', row: 0, field: 'uprn', message: 'column uprn missing' }])
    expect((await tableCounts(db)).households).toBe(0)
  })

  test('unknown and repeated columns', async () => {
    const report = await importCsv(db, { households: 'uprn,address,Address,uprn\n1,a,b,1\n' })
    expect(report.errors).toEqual([
      { entity: 'households', row: 0, field: 'Address', message: expect.stringContaining('unknown column "Address"; the columns of households are uprn, address,') },
      { entity: 'households', row: 0, field: 'uprn', message: 'column uprn appears twice' },
    ])
  })

  test('bad UPRNs, row by row, numbered as data rows (line − 1)', async () => {
    const csv = 'uprn,address\n0,Zero\n1234567890123,Thirteen digits\nABC,Text\n12.5,Fraction\n-4,Negative\n7,Good\n'
    const report = await importCsv(db, { households: csv })
    expect(report.errors).toEqual([
      { entity: 'households', row: 1, field: 'uprn', message: 'expected integer to be greater or equal to 1 (got 0)' },
      { entity: 'households', row: 2, field: 'uprn', message: 'expected integer to be less or equal to 999999999999 (got 1234567890123)' },
      { entity: 'households', row: 3, field: 'uprn', message: 'expected integer (got "ABC")' },
      // Not silently truncated to 12.
      { entity: 'households', row: 4, field: 'uprn', message: 'expected integer (got "12.5")' },
      { entity: 'households', row: 5, field: 'uprn', message: 'expected integer to be greater or equal to 1 (got -4)' },
    ])
    expect((await tableCounts(db)).households).toBe(0)
  })

  test('row numbers follow the file\'s lines across blank lines and quoted line breaks', async () => {
    const csv = 'uprn,address\n1,One\n\n2,"Two\nlines"\n0,Bad\n3,Three,extra\n'
    const report = await importCsv(db, { households: csv })
    expect(report.errors).toEqual([
      { entity: 'households', row: 5, field: 'uprn', message: 'expected integer to be greater or equal to 1 (got 0)' },
      { entity: 'households', row: 6, message: 'has 3 cells but the header has 2 columns' },
    ])
  })

  test('duplicate tags and unknown households in bins.csv', async () => {
    const bins = 'binId,uprn,stream,rfidTag\nb1,100000000001,residual,T1\nb2,100000000002,recycling,T1\nb3,999,food,\n'
    const report = await importCsv(db, { households: HOUSEHOLDS, bins })
    expect(report.errors).toEqual([
      { entity: 'bins', row: 2, field: 'rfidTag', message: 'RFID tag T1 is also given to bin b1 (row 1)' },
      { entity: 'bins', row: 3, field: 'uprn', message: 'no household with UPRN 999 in the file or in the registry' },
    ])
    expect(await tableCounts(db)).toMatchObject({ households: 0, bins: 0 })
  })

  test('unknown rounds and households in roundStops.csv', async () => {
    await importCsv(db, { households: HOUSEHOLDS }, NO_CALENDAR)
    const report = await importCsv(db, { roundStops: 'roundId,uprn,position\nmon-1,100000000001,0\nmon-1,100000000404,1\n' })
    expect(report.errors).toEqual([
      { entity: 'roundStops', row: 1, field: 'roundId', message: 'no round mon-1 in the file or in the registry' },
      { entity: 'roundStops', row: 2, field: 'roundId', message: 'no round mon-1 in the file or in the registry' },
      { entity: 'roundStops', row: 2, field: 'uprn', message: 'no household with UPRN 100000000404 in the file or in the registry' },
    ])
    expect((await tableCounts(db)).round_households).toBe(0)
  })

  test('malformed CSV and an empty file', async () => {
    expect((await importCsv(db, { households: 'uprn,address\n1,"open quote\n' })).errors).toEqual([
      { entity: 'households', row: 0, message: 'the file is not valid CSV: Quote Not Closed: the parsing is finished with an opening quote at line 2' },
    ])
    expect((await importCsv(db, { households: '' })).errors).toEqual([{ entity: 'households', row: 0, message: 'the file is empty; the first line must name the columns' }])
  })
})

test('cells are converted strictly to the type of their column', () => {
  expect(coerceCell('integer', '42')).toBe(42)
  expect(coerceCell('integer', '4.2')).toBe('4.2')
  expect(coerceCell('number', '-2.99')).toBe(-2.99)
  expect(coerceCell('number', '1e3')).toBe(1000)
  expect(coerceCell('number', 'north')).toBe('north')
  expect(coerceCell('boolean', 'TRUE')).toBe(true)
  expect(coerceCell('boolean', 'no')).toBe(false)
  expect(coerceCell('boolean', 'maybe')).toBe('maybe')
  expect(coerceCell('string', '00123')).toBe('00123')
})

test('files are named after their entity', async () => {
  expect(entityOfFile('/data/roundStops.csv')).toBe('roundStops')
  expect(entityOfFile('streets.csv')).toBeNull()
  const parsed = await parseEntityCsv('contractors', 'contractorId,name\nacme,Acme\n')
  expect(parsed).toEqual({ entries: [{ row: 1, value: { contractorId: 'acme', name: 'Acme' } }], errors: [] })
})
