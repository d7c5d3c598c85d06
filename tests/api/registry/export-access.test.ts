// Regression for issue 19 (HIGH): `GET /api/v1/registry/export` with the wallboard's viewer key gave
// every household's CRM reference and assisted flag, and every bin's RFID tag, with no audit entry.
// Now personal fields are in a bulk export for admin only, and every export is audited with who,
// which entity and how many rows.
import { Registry } from 'prom-client'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApi, type Api } from '../../../api/build-api.ts'
import { silentLogger } from '../../../core/log.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { importRegistry } from '../../../storage/registry/import.ts'
import { smallCity } from '../../storage/registry/fixture.ts'

const ADMIN = 'admin-key-for-export-access-tests-0'
let db: Database
let app: Api
const keys: Record<string, { key: string; keyId: string }> = {}

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  for (const role of ['contract_manager', 'viewer'] as const) {
    const { key, info } = await createApiKey(db, role, role)
    keys[role] = { key, keyId: info.keyId }
  }
  expect((await importRegistry(db, smallCity(6))).ok).toBe(true)
})
afterAll(async () => { await app?.close(); await db?.close() })

const get = (url: string, key: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })
const lastAudit = async () => (await db.query<{ actor: string; role: string; action: string; subject: string | null; row_count: number | null; status: number }>(
  `SELECT actor, role, action, subject, row_count, status FROM audit_log ORDER BY id DESC LIMIT 1`)).rows[0]

describe('bulk export by role', () => {
  test.each(['viewer', 'contract_manager'] as const)('%s: households and bins as CSV without address, position, assisted flag, CRM reference or RFID tag; audited', async (role) => {
    const households = await get('/api/v1/registry/export?format=csv&entity=households', keys[role]!.key)
    expect(households.statusCode).toBe(200)
    const rows = parse(households.body, { columns: true }) as Record<string, string>[]
    expect(rows).toHaveLength(6)
    expect(Object.keys(rows[0]!).sort()).toEqual(['postcode', 'street', 'uprn', 'ward'])
    expect(households.body).not.toMatch(/CRM-\d/)
    expect(await lastAudit()).toMatchObject({ actor: keys[role]!.keyId, role, action: 'GET /api/v1/registry/export', subject: 'entity=households', row_count: 6, status: 200 })

    const bins = await get('/api/v1/registry/export?format=csv&entity=bins', keys[role]!.key)
    expect(bins.statusCode).toBe(200)
    expect(bins.body).not.toMatch(/TAG-/)
    expect(bins.body.split('\n')[0]).not.toContain('rfidTag')
    expect(await lastAudit()).toMatchObject({ role, subject: 'entity=bins', row_count: 12 })
  })

  test('viewer: the JSON export has no personal field anywhere; audited with every row it gave out', async () => {
    const res = await get('/api/v1/registry/export', keys.viewer!.key)
    expect(res.statusCode).toBe(200)
    const data = res.json() as Record<string, Record<string, unknown>[]>
    for (const h of data.households!) for (const f of ['address', 'lat', 'lon', 'assisted', 'crmRef']) expect(h, f).not.toHaveProperty(f)
    for (const b of data.bins!) expect(b).not.toHaveProperty('rfidTag')
    const total = Object.values(data).reduce((n, rows) => n + rows.length, 0)
    expect(await lastAudit()).toMatchObject({ role: 'viewer', subject: null, row_count: total })
  })

  test('admin: the whole registry, personal fields included (it round-trips through the import); audited', async () => {
    const res = await get('/api/v1/registry/export?format=csv&entity=households', ADMIN)
    const rows = parse(res.body, { columns: true }) as Record<string, string>[]
    expect(rows[0]).toMatchObject({ crmRef: 'CRM-1', assisted: 'true' })
    expect(rows[0]!.address).toBeTruthy()
    expect(await lastAudit()).toMatchObject({ actor: 'bootstrap', role: 'admin', subject: 'entity=households', row_count: 6 })
  })

  test('crm and provisioning may not export', async () => {
    for (const role of ['crm', 'provisioning'] as const) {
      const { key } = await createApiKey(db, `${role} export`, role)
      expect((await get('/api/v1/registry/export?format=csv&entity=households', key)).statusCode).toBe(403)
    }
  })
})
