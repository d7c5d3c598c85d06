// Injection attempts (SQL, script, path traversal, header splitting, template and NoSQL operators,
// unicode tricks, NUL) in every text field a client can fill: each field of an Open311 missed-bin
// report, the contact centre's household search, and every text column of a registry import. Each
// is either refused with a 4xx and a reason, or kept as the plain text it is (read back byte for
// byte) without touching anything else; never a 5xx; the services stay up.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { minimiseText } from '../../storage/reports.ts'
import { count } from '../helpers/stack.ts'
import { fingerprint, startHostileStack, Tally, type HostileStack } from './harness.ts'

let h: HostileStack
beforeAll(async () => { h = await startHostileStack({ HTTP_RATE_LIMIT_PER_MINUTE: 10_000_000 }) })
afterAll(async () => h?.close())

const INJECTIONS = [
  "'; DROP TABLE households; --", "' OR '1'='1", "x' UNION SELECT secret_hash, null FROM devices --", "1); DELETE FROM missed_reports WHERE (1=1",
  '<script>alert(document.cookie)</script>', '<img src=x onerror=alert(1)>', 'javascript:alert(1)',
  '../../../../etc/passwd', '..\\..\\..\\windows\\win.ini', '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  'line\r\nSet-Cookie: pwned=1', '${jndi:ldap://127.0.0.1/a}', '{{constructor.constructor("return process")()}}', '{"$where":"1==1"}',
  '\u202egnp.exe', 'Z\u0351\u0352\u0353algo', '\u{1F5D1}\u{FE0F}\u200d\u{1F525}', 'nul\u0000byte',
]
const auth = () => ({ authorization: `Bearer ${h.adminKey}` })

test('Open311 report fields: refused with a reason or stored verbatim; nothing else changes', async () => {
  const tally = new Tally('injection: Open311 fields')
  const FIELDS = ['description', 'first_name', 'last_name', 'email', 'phone', 'account_id', 'device_id', 'attribute[bin_location_note]', 'media_url', 'address_string', 'service_code', 'address_id', 'lat', 'attribute[collection_date]']
  const before = await fingerprint(h.db, { excludeDevices: [h.probe.deviceId], excludeTables: ['missed_reports', 'report_contacts', 'report_updates', 'crm_outbox'] })
  const reportsBefore = await count(h.db, 'SELECT 1 FROM missed_reports')
  let stored = 0
  for (const field of FIELDS) {
    for (const value of INJECTIONS) {
      tally.tried++
      const form = new URLSearchParams({ service_code: 'missed_residual', address_id: '100000000001', [field]: value })
      const res = await fetch(`${h.httpUrl}/open311/v2/requests.json`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })
      expect(res.status, `${field}=${JSON.stringify(value)}`).toBeLessThan(500)
      expect(res.headers.get('set-cookie')).toBeNull()
      const body = await res.json() as { service_request_id?: string; description?: string }[]
      if (res.status >= 400) {
        expect(body[0]?.description, `${field}=${JSON.stringify(value)} refused without a reason`).toBeTruthy()
        tally.reject(`${res.status} ${field}`)
        continue
      }
      stored++
      tally.reject('accepted as text')
      // Kept as the text it is: read back from the database (trimmed, as Open311 reads fields).
      const id = Number(body[0]!.service_request_id)
      const column = { description: 'r.description', 'attribute[bin_location_note]': 'r.bin_location_note', media_url: 'r.media_url', first_name: 'c.first_name', last_name: 'c.last_name', account_id: 'c.account_id', device_id: 'c.device_id' }[field]
      if (column) {
        const { rows } = await h.db.query<{ v: string }>(`SELECT ${column} AS v FROM missed_reports r LEFT JOIN report_contacts c USING (report_id) WHERE r.report_id = $1`, [id])
        // Free text goes through the documented minimisation (markup and control characters out,
        // docs/data-protection.md); every other field is kept exactly as given.
        const expected = field === 'description' ? minimiseText(value, 1000) : field === 'attribute[bin_location_note]' ? minimiseText(value, 200) : value.trim()
        expect(rows[0]?.v ?? null, `${field} stored`).toBe(expected)
      }
      // A second report on the same open collection would be merged into this one: clear it, so
      // that every value is read back from a report of its own.
      await h.db.query('DELETE FROM report_updates WHERE report_id = $1', [id]).catch(() => undefined)
      await h.db.query('DELETE FROM missed_reports WHERE report_id = $1', [id])
    }
  }
  await h.stillUp()
  expect(await count(h.db, 'SELECT 1 FROM missed_reports')).toBe(reportsBefore)
  expect(await count(h.db, 'SELECT 1 FROM households')).toBe(2)
  expect(await fingerprint(h.db, { excludeDevices: [h.probe.deviceId], excludeTables: ['missed_reports', 'report_contacts', 'report_updates', 'crm_outbox'] })).toEqual(before)
  tally.print(`reports stored with the text as given ${stored}`)
})

test('household search and registry import (dry run): no 5xx, no rows leak, nothing written', async () => {
  const tally = new Tally('injection: search and registry import')
  const before = await fingerprint(h.db, { excludeDevices: [h.probe.deviceId] })
  for (const value of INJECTIONS) {
    tally.tried++
    const res = await fetch(`${h.httpUrl}/api/v1/households?q=${encodeURIComponent(value)}&limit=50`, { headers: auth() })
    expect(res.status, value).toBeLessThan(500)
    if (res.status === 200) {
      // "' OR '1'='1" must not turn into "every household".
      expect(await res.json(), value).toEqual([])
      tally.reject('200, no match')
    } else {
      expect((await res.json() as { message?: string }).message).toBeTruthy()
      tally.reject(`${res.status} search`)
    }
  }
  const TEXT_COLUMNS = ['address', 'street', 'postcode', 'ward', 'crmRef']
  for (const column of TEXT_COLUMNS) {
    for (const value of INJECTIONS) {
      for (const format of ['json', 'csv'] as const) {
        tally.tried++
        const row = { uprn: 100000000009, address: '9 Test Street', street: 'Test Street', postcode: 'L1 1AA', ward: 'Central', lat: 53.4, lon: -2.99, crmRef: null, [column]: value }
        const csvCell = (v: unknown) => (v === null ? '' : `"${String(v).replaceAll('"', '""')}"`)
        const body = format === 'json'
          ? JSON.stringify({ households: [row] })
          : `${Object.keys(row).join(',')}\n${Object.values(row).map(csvCell).join(',')}\n`
        const res = await fetch(`${h.httpUrl}/api/v1/registry/import?dryRun=true${format === 'csv' ? '&entity=households' : ''}`, { method: 'POST', headers: { ...auth(), 'content-type': format === 'json' ? 'application/json' : 'text/csv' }, body })
        expect(res.status, `${format} ${column}=${JSON.stringify(value)}`).toBeLessThan(500)
        const report = await res.json() as { ok?: boolean; errors?: { message: string }[]; message?: string }
        if (res.status === 200) tally.reject('dry run would accept as text')
        else {
          expect(report.errors?.[0]?.message ?? report.message, `${format} ${column}: refused without a reason`).toBeTruthy()
          tally.reject(`${res.status} import ${column}`)
        }
      }
    }
  }
  await h.stillUp()
  expect(await fingerprint(h.db, { excludeDevices: [h.probe.deviceId] })).toEqual(before)
  tally.print()
})
