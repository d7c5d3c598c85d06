// The reports list a page at a time (issue 18): a city has thousands of reports a month, and the
// dashboard asked for the newest 500 of four weeks in one answer. Pages follow the Link header's
// rel="next" (after = the last report of the page): together they are the whole list in its order
// (requested_at, then report id, newest first) with no report twice and none left out, also when
// many reports were made at the same instant, and with the filters of the first page kept.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import { silentLogger } from '../../core/log.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { importRegistry } from '../../storage/registry/import.ts'
import { smallCity, UPRN0 } from '../storage/registry/fixture.ts'

const ADMIN = 'admin-key-for-reports-paging-0000'
let db: Database
let app: Api
let manager: string
const BASE = Date.parse('2026-11-02T10:00:00Z')

interface Row { reportId: number; requestedAt: string; stream: string; validity: string; status: string }

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  expect((await importRegistry(db, smallCity(6))).ok).toBe(true)
  manager = (await createApiKey(db, 'manager', 'contract_manager')).key
  // 60 reports over 12 instants, five at each (equal timestamps across pages), streams, validities
  // and statuses mixed; ids not in time order (every third instant is filed later than the next).
  await db.query(`
    INSERT INTO missed_reports (service_code, stream, uprn, collection_date, located_by, source, validity, invalid_reason, status, closed_at, requested_at)
    SELECT 'missed_' || stream, stream, uprn, DATE '2026-11-01', 'uprn', 'test', validity, CASE WHEN validity = 'invalid' THEN 'collected' END,
           status, CASE WHEN status = 'closed' THEN at + interval '1 day' END, at
      FROM (SELECT CASE WHEN i % 2 = 0 THEN 'residual' ELSE 'recycling' END AS stream, $1::bigint + (i % 6) AS uprn,
                   (ARRAY['valid', 'invalid', 'pending'])[1 + i % 3] AS validity, CASE WHEN i % 4 = 0 THEN 'closed' ELSE 'open' END AS status,
                   to_timestamp($2::bigint / 1000.0) + make_interval(hours => CASE WHEN (i / 5) % 3 = 0 THEN (i / 5) + 1 ELSE (i / 5) END) AS at
              FROM generate_series(0, 59) i) s`, [UPRN0, BASE])
})
afterAll(async () => { await app?.close(); await db?.close() })

const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${manager}` } })

/** The URL of the Link header's rel="next", or null. */
function nextOf(link: string | string[] | undefined): string | null {
  const m = /^<([^>]+)>; rel="next"$/.exec(String(link ?? ''))
  return m ? m[1]! : null
}

/** Every page from `url` on, following rel="next". */
async function allPages(url: string): Promise<Row[][]> {
  const pages: Row[][] = []
  for (let next: string | null = url; next; ) {
    const res = await get(next)
    expect(res.statusCode, next).toBe(200)
    pages.push(res.json() as Row[])
    next = nextOf(res.headers.link)
    expect(pages.length).toBeLessThan(100)
  }
  return pages
}

const newestFirst = (a: Row, b: Row) => Date.parse(b.requestedAt) - Date.parse(a.requestedAt) || b.reportId - a.reportId

test('pages of 7 add up to the whole list in its order, with no report twice and none left out', async () => {
  const whole = (await get('/api/v1/reports?limit=1000')).json() as Row[]
  expect(whole).toHaveLength(60)
  expect([...whole].sort(newestFirst)).toEqual(whole)
  // Equal timestamps: five reports at each instant, so pages of 7 split them.
  expect(new Set(whole.map((r) => r.requestedAt)).size).toBeLessThan(whole.length)

  const pages = await allPages('/api/v1/reports?limit=7')
  expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 7, 4])
  const paged = pages.flat()
  expect(paged.map((r) => r.reportId)).toEqual(whole.map((r) => r.reportId))
  expect(new Set(paged.map((r) => r.reportId)).size).toBe(60)
})

test('a page that ends the list has no Link; one that ends exactly at a page boundary neither', async () => {
  const pages = await allPages('/api/v1/reports?limit=20')
  expect(pages.map((p) => p.length)).toEqual([20, 20, 20])
  const last = await get('/api/v1/reports?limit=60')
  expect(last.json()).toHaveLength(60)
  expect(last.headers.link).toBeUndefined()
})

test('the filters of the first page are kept by its next pages', async () => {
  const q = `stream=recycling&validity=valid&status=open&from=${new Date(BASE + 2 * 3_600_000).toISOString()}&to=${new Date(BASE + 11 * 3_600_000).toISOString()}`
  const whole = (await get(`/api/v1/reports?${q}&limit=1000`)).json() as Row[]
  expect(whole.length).toBeGreaterThan(4)
  for (const r of whole) expect(r).toMatchObject({ stream: 'recycling', validity: 'valid', status: 'open' })
  const pages = await allPages(`/api/v1/reports?${q}&limit=2`)
  expect(pages.length).toBeGreaterThan(2)
  expect(pages.flat().map((r) => r.reportId)).toEqual(whole.map((r) => r.reportId))
  const first = await get(`/api/v1/reports?${q}&limit=2&api_key=${manager}`)
  const next = new URL(nextOf(first.headers.link)!, 'http://x')
  expect(Object.fromEntries(next.searchParams)).toMatchObject({ stream: 'recycling', validity: 'valid', status: 'open', limit: '2', after: String((first.json() as Row[])[1]!.reportId) })
  expect(next.searchParams.has('api_key')).toBe(false)
})

test('limit alone answers as before: the newest reports, 200 without it', async () => {
  const whole = (await get('/api/v1/reports?limit=1000')).json() as Row[]
  const res = await get('/api/v1/reports?limit=5')
  expect((res.json() as Row[]).map((r) => r.reportId)).toEqual(whole.slice(0, 5).map((r) => r.reportId))
  expect(nextOf(res.headers.link)).toContain(`after=${whole[4]!.reportId}`)
  expect(await get('/api/v1/reports').then((r) => r.json())).toHaveLength(60)
})

test('after a report that does not exist: 400 with a reason; after the oldest: an empty page', async () => {
  const res = await get('/api/v1/reports?after=999999999')
  expect(res.statusCode).toBe(400)
  expect(res.json()).toMatchObject({ code: 'KERBSIDE_ERR_BAD_CURSOR' })
  const whole = (await get('/api/v1/reports?limit=1000')).json() as Row[]
  const end = await get(`/api/v1/reports?after=${whole.at(-1)!.reportId}`)
  expect(end.statusCode).toBe(200)
  expect(end.json()).toEqual([])
  expect(end.headers.link).toBeUndefined()
})
