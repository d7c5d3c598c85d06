// FixMyStreet's additional request attributes (mySociety's additions to GeoReport v2:
// agency_sent_datetime, title, interface_used, comment_count), sent per API key: off by default, set
// when the key is created or later (storage, the keys API, `kerbside keys` through a running
// Kerbside's API), in both formats, and never to a keyless caller; requestor_name is never sent.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApiKey, listApiKeys, revokeApiKey, updateApiKeySettings } from '../../../storage/api-keys.ts'
import { createReport, setReportVerdict } from '../../../storage/reports.ts'
import { FORMATS, UPRN_1, get, items, startOpen311Stack, type Open311Stack } from './open311-client.ts'

const EXTENDED = ['agency_sent_datetime', 'title', 'interface_used', 'comment_count']
const BIN = join(import.meta.dirname, '..', '..', '..', 'cli', 'bin.js')

let s: Open311Stack
let reportId: string

const admin = (method: string, path: string, body?: unknown) => fetch(`${s.t.httpUrl}/api/v1${path}`, {
  method, headers: { authorization: `Bearer ${s.t.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
})

/** `kerbside …` on the stack's data folder: its embedded database is in use, so the CLI goes through the API. */
function kerbside(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, KERBSIDE_DATA_DIR: s.t.dataDir, KERBSIDE_ADMIN_KEY: s.t.adminKey, HTTP_PORT: new URL(s.t.httpUrl).port, LOG_LEVEL: 'warn', DATABASE_URL: '' }
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }))
  })
}

beforeAll(async () => {
  s = await startOpen311Stack()
  const filer = await createApiKey(s.t.db, 'Liverpool CRM', 'crm')
  const { report } = await createReport(s.t.db, { serviceCode: 'missed_residual', stream: 'residual', uprn: UPRN_1, locatedBy: 'uprn', source: filer.info.keyId, serviceNotice: 'Report received.' })
  reportId = String(report.id)
  // The check confirms the miss: one update after the filing, and the return visit passed to the contractor.
  await setReportVerdict(s.t.db, report.id, { validity: 'valid', statusNotes: 'Missed collection confirmed.' })
})
afterAll(async () => s?.close())

describe('storage', () => {
  test('off by default, on when asked, changed later; a revoked key cannot be changed', async () => {
    const plain = await createApiKey(s.t.db, 'plain', 'crm')
    expect(plain.info.open311Extended).toBe(false)
    const fms = await createApiKey(s.t.db, 'fms', 'crm', { open311Extended: true })
    expect(fms.info.open311Extended).toBe(true)
    expect((await updateApiKeySettings(s.t.db, fms.info.keyId, { open311Extended: false }))?.open311Extended).toBe(false)
    expect((await listApiKeys(s.t.db)).find((k) => k.keyId === fms.info.keyId)?.open311Extended).toBe(false)
    await revokeApiKey(s.t.db, plain.info.keyId)
    expect(await updateApiKeySettings(s.t.db, plain.info.keyId, { open311Extended: true })).toBeNull()
    expect(await updateApiKeySettings(s.t.db, 'nosuchkey000', { open311Extended: true })).toBeNull()
  })
})

describe.each(FORMATS)('Open311 answers, %s', (format) => {
  test('a key without the setting gets plain GeoReport v2; with it, FixMyStreet\'s additions; keyless never', async () => {
    const created = await (await admin('POST', '/keys', { name: `fms ${format}`, role: 'crm' })).json() as { key: string; info: { keyId: string; open311Extended: boolean } }
    expect(created.info.open311Extended).toBe(false)
    const read = async (key: string | null) => items(await get(s.url(`/requests/${reportId}.${format}${key ? `?api_key=${key}` : ''}`)), format, 'service_requests', 'request')[0]!
    const plain = await read(created.key)
    for (const f of EXTENDED) expect(Object.keys(plain), f).not.toContain(f)

    const patched = await admin('PATCH', `/keys/${created.info.keyId}`, { open311Extended: true })
    expect(patched.status).toBe(200)
    expect(((await patched.json()) as { open311Extended: boolean }).open311Extended).toBe(true)
    const extended = await read(created.key)
    expect(extended).toMatchObject({ title: 'Missed bin: general waste', interface_used: 'Liverpool CRM' })
    expect(String(extended.comment_count)).toBe('1')
    expect(String(extended.agency_sent_datetime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/)
    expect(Object.keys(extended)).not.toContain('requestor_name')
    // The list answers the same.
    const listed = items(await get(s.url(`/requests.${format}?service_request_id=${reportId}&api_key=${created.key}`)), format, 'service_requests', 'request')[0]!
    expect(listed.interface_used).toBe('Liverpool CRM')

    const keyless = await read(null)
    for (const f of EXTENDED) expect(Object.keys(keyless), f).not.toContain(f)

    await admin('PATCH', `/keys/${created.info.keyId}`, { open311Extended: false })
    const off = await read(created.key)
    for (const f of EXTENDED) expect(Object.keys(off), f).not.toContain(f)
  })
})

describe('the keys API', () => {
  test('create with the setting; PATCH refuses what it cannot take', async () => {
    const res = await admin('POST', '/keys', { name: 'fms on', role: 'crm', open311Extended: true })
    expect(res.status).toBe(201)
    const { info } = await res.json() as { info: { keyId: string; open311Extended: boolean } }
    expect(info.open311Extended).toBe(true)
    expect((await admin('PATCH', `/keys/${info.keyId}`, { open311Extended: 'yes' })).status).toBe(400)
    expect((await admin('PATCH', `/keys/${info.keyId}`, {})).status).toBe(400)
    expect((await admin('PATCH', '/keys/nosuchkey000', { open311Extended: true })).status).toBe(404)
    const viewer = await fetch(`${s.t.httpUrl}/api/v1/keys/${info.keyId}`, { method: 'PATCH', headers: { authorization: `Bearer ${s.keys.viewer}`, 'content-type': 'application/json' }, body: '{"open311Extended":false}' })
    expect(viewer.status).toBe(403)
  })
})

describe('kerbside keys (through the running Kerbside\'s API, with the generated client)', () => {
  test('create --open311-extended on, set … off, list; a wrong value is refused', async () => {
    const created = await kerbside('keys', 'create', 'cli fms', '--role', 'crm', '--open311-extended', 'on')
    expect(created.code, created.stderr).toBe(0)
    const info = JSON.parse(created.stdout) as { keyId: string; open311Extended: boolean }
    expect(info.open311Extended).toBe(true)
    expect((await kerbside('keys', 'list')).stdout).toMatch(new RegExp(`${info.keyId}\\tcrm\\tcli fms\\tactive\\topen311-extended`))
    const set = await kerbside('keys', 'set', info.keyId, '--open311-extended', 'off')
    expect(set.stdout.trim()).toBe(`${info.keyId}: Open311 extended attributes off`)
    expect((await listApiKeys(s.t.db)).find((k) => k.keyId === info.keyId)?.open311Extended).toBe(false)
    const wrong = await kerbside('keys', 'set', info.keyId, '--open311-extended', 'maybe')
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toContain('--open311-extended must be on or off')
    const missing = await kerbside('keys', 'set', 'nosuchkey000', '--open311-extended', 'on')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('no active key nosuchkey000')
  }, 120_000)
})
