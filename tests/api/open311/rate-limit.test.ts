// The API's rate limit applies to Open311 too, and is answered in the Open311 error format.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { expectErrors, get, startOpen311Stack, type Open311Stack } from './open311-client.ts'

let s: Open311Stack
beforeAll(async () => { s = await startOpen311Stack({ HTTP_RATE_LIMIT_PER_MINUTE: 3 }) })
afterAll(async () => s?.close())

test('past the limit, a 429 in the format asked for', async () => {
  const url = s.url(`/requests.xml?api_key=${s.keys.crm}`)
  for (let i = 0; i < 3; i++) expect((await get(url, { authorization: `Bearer ${s.keys.crm}` })).status).toBe(200)
  expect(expectErrors(await get(url, { authorization: `Bearer ${s.keys.crm}` }), 'xml', 429)[0]).toContain('Rate limit')
  expectErrors(await get(s.url('/requests.json'), { authorization: `Bearer ${s.keys.crm}` }), 'json', 429)
})

test('keyless reads of requests are limited per client address, in the format asked for', async () => {
  const url = s.url('/requests.json?status=open')
  for (let i = 0; i < 3; i++) expect((await get(url)).status).toBe(200)
  expect(expectErrors(await get(s.url('/requests/1.xml')), 'xml', 429)[0]).toContain('Rate limit')
})
