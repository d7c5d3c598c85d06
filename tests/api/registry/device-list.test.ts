// The devices list (GET /api/v1/devices) and the fleet's counts (GET /api/v1/device-summary): search
// by device id, DevEUI, UPRN, postcode and address start; filters by kind and state; paging by
// offset and by `after`; the household of each sensor for the roles that may see it (and no search
// by household for the others). On the embedded engine and on the PostgreSQL server: the same
// queries must answer the same on every tier.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import { buildApi, type Api } from '../../../api/build-api.ts'
import { silentLogger } from '../../../core/log.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { seedMinimalRegistry } from '../../helpers/stack.ts'
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.ts'

const ADMIN = 'admin-key-of-this-test-0123456789'
const DEV_EUI = 'A84041000181C3D5'
const PAGED = 130

describe.each(['embedded', 'postgresql'] as const)('devices list on %s', (engine) => {
  let server: TestDatabase | null = null
  let db: Database
  let app: Api
  const keys: Record<string, string> = {}
  const get = (url: string, key: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })
  const ids = async (url: string, key = keys.contract_manager!) => {
    const res = await get(url, key)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ deviceId: string }[]>().map((d) => d.deviceId)
  }

  beforeAll(async () => {
    server = engine === 'postgresql' ? await createTestDatabase() : null
    db = await openDatabase({ url: server?.url, logger: silentLogger })
    app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
    await seedMinimalRegistry(db)
    await db.query(`INSERT INTO households (uprn, address, street, postcode, ward) VALUES
      (100000000005, '5 Acacia Avenue', 'Acacia Avenue', 'L2 3BB', 'North'), (100000000006, '6 Acacia Avenue', 'Acacia Avenue', 'L2 3BB', 'North')`)
    await db.query(`INSERT INTO bins (bin_id, uprn, stream) VALUES ('bin-5', 100000000005, 'residual'), ('bin-6', 100000000006, 'residual')`)
    await db.query(`INSERT INTO devices (device_id, kind, secret_hash, bin_id, online, last_ts, revoked_at) VALUES
      ('s-1', 'bin', '!', 'bin-1', true, now() - interval '10 minutes', NULL),
      ('s-2', 'bin', '!', 'bin-2', false, now() - interval '5 hours', NULL),
      ('s-5', 'bin', '!', 'bin-5', NULL, NULL, NULL),
      ('s-6', 'bin', '!', 'bin-6', false, now() - interval '1 hour', now() - interval '1 day')`)
    await db.query(`INSERT INTO devices (device_id, kind, secret_hash, online, last_ts)
      SELECT 'unit-' || lpad(g::text, 3, '0'), 'vehicle', '!', true, now() - interval '1 minute' FROM generate_series(1, ${PAGED}) g`)
    await db.query(`INSERT INTO latest_readings (device_id, bin_id, uprn, ts, seq, fill_pct, battery_v) VALUES
      ('s-1', 'bin-1', 100000000001, now() - interval '10 minutes', 7, 40, 3.61), ('s-2', 'bin-2', 100000000002, now() - interval '5 hours', 3, 20, 3.1)`)
    await db.query(`INSERT INTO lorawan_devices (dev_eui, device_id, model, battery_v) VALUES ($1, 's-5', 'milesight-em310-udl', 3.0)`, [DEV_EUI])
    await db.query(`INSERT INTO quarantine (topic, device_id, reason, payload, payload_bytes, payload_sha256, first_seen, last_seen) VALUES
      ('kerbside/v1/bins/s-2/reading', 's-2', 'invalid', '\\x7b7d', 2, '\\x01', now() - interval '2 hours', now() - interval '1 hour'),
      ('kerbside/v1/bins/s-1/reading', 's-1', 'invalid', '\\x7b7d', 2, '\\x02', now() - interval '3 days', now() - interval '2 days')`)
    for (const role of ['contract_manager', 'viewer', 'provisioning', 'crm'] as const) keys[role] = (await createApiKey(db, `${role} system`, role)).key
  })
  afterAll(async () => { await app?.close(); await db?.close(); await server?.drop() })

  test('finds devices by device id (whole or its start) and by DevEUI written any way', async () => {
    expect(await ids('/api/v1/devices?q=s-5')).toEqual(['s-5'])
    expect(await ids('/api/v1/devices?q=s-')).toEqual(['s-1', 's-2', 's-5', 's-6'])
    expect(await ids('/api/v1/devices?q=a8:40:41:00:01:81:c3:d5')).toEqual(['s-5'])
    expect(await ids(`/api/v1/devices?q=${DEV_EUI}`)).toEqual(['s-5'])
  })

  test('finds the sensors of households by UPRN, postcode (whole or its start), address start or street', async () => {
    expect(await ids('/api/v1/devices?q=100000000001')).toEqual(['s-1'])
    expect(await ids('/api/v1/devices?q=l2%203bb')).toEqual(['s-5', 's-6'])
    expect(await ids('/api/v1/devices?q=L2')).toEqual(['s-5', 's-6'])
    expect(await ids('/api/v1/devices?q=5%20acacia')).toEqual(['s-5'])
    expect(await ids('/api/v1/devices?q=Acacia')).toEqual(['s-5', 's-6'])
    expect(await ids('/api/v1/devices?q=Test%20Street')).toEqual(['s-1', 's-2'])
    // Wildcards are text to find, not patterns.
    expect(await ids('/api/v1/devices?q=%25')).toEqual([])
    expect(await ids('/api/v1/devices?q=s_1')).toEqual([])
    expect(await ids('/api/v1/devices?q=Nowhere%20Road')).toEqual([])
  })

  test('each row carries the household, the battery and the last refused message', async () => {
    const [row] = (await get('/api/v1/devices?q=s-2', keys.contract_manager!)).json()
    expect(row).toMatchObject({ deviceId: 's-2', kind: 'bin', binId: 'bin-2', uprn: 100000000002, address: '2 Test Street', postcode: 'L1 1AA', batteryV: 3.1, devEui: null, online: false })
    expect(Date.now() - Date.parse(row.quarantinedAt)).toBeGreaterThan(3_500_000)
    const [lora] = (await get('/api/v1/devices?q=s-5', keys.contract_manager!)).json()
    expect(lora).toMatchObject({ devEui: DEV_EUI, batteryV: 3, quarantinedAt: null, lastTs: null })
    // A refusal two days ago is not recent.
    expect((await get('/api/v1/devices?q=s-1', keys.contract_manager!)).json()[0].quarantinedAt).toBeNull()
    const [unit] = (await get('/api/v1/devices?q=unit-001', keys.contract_manager!)).json()
    expect(unit).toMatchObject({ kind: 'vehicle', uprn: null, address: null, postcode: null, batteryV: null })
  })

  test('a role that may not see households gets no address and cannot search by one', async () => {
    for (const role of ['viewer', 'provisioning'] as const) {
      const [row] = (await get('/api/v1/devices?q=s-2', keys[role]!)).json()
      expect(row.deviceId).toBe('s-2')
      expect(row).not.toHaveProperty('address')
      expect(row).not.toHaveProperty('uprn')
      expect(await ids('/api/v1/devices?q=Test%20Street', keys[role])).toEqual([])
      expect(await ids('/api/v1/devices?q=100000000001', keys[role])).toEqual([])
    }
    expect((await get('/api/v1/devices', keys.crm!)).statusCode).toBe(403)
  })

  test('filters by kind and by state', async () => {
    expect(await ids('/api/v1/devices?state=online&kind=bin')).toEqual(['s-1'])
    // Silent: nothing heard for 3 hours, or never heard and not connected; revoked devices are not.
    expect(await ids('/api/v1/devices?state=silent')).toEqual(['s-2', 's-5'])
    expect(await ids('/api/v1/devices?state=low_battery')).toEqual(['s-2', 's-5'])
    expect(await ids('/api/v1/devices?state=quarantined')).toEqual(['s-2'])
    expect(await ids('/api/v1/devices?state=revoked')).toEqual(['s-6'])
    expect(await ids('/api/v1/devices?state=online&q=Acacia')).toEqual([])
    expect((await ids('/api/v1/devices?kind=vehicle&limit=1000')).length).toBe(PAGED)
  })

  test('pages by offset and by the last id of the page before, the same devices either way', async () => {
    const all = await ids('/api/v1/devices?limit=1000')
    expect(all).toHaveLength(PAGED + 4)
    expect(all).toEqual([...all].sort())
    const byOffset = [...await ids('/api/v1/devices?limit=50'), ...await ids('/api/v1/devices?limit=50&offset=50'), ...await ids('/api/v1/devices?limit=50&offset=100')]
    const byAfter: string[] = []
    for (let after: string | undefined; ;) {
      const page = await ids(`/api/v1/devices?limit=50${after ? `&after=${after}` : ''}`)
      byAfter.push(...page)
      if (page.length < 50) break
      after = page[page.length - 1]
    }
    expect(byOffset).toEqual(all.slice(0, 150))
    expect(byAfter).toEqual(all)
  })

  test('bad input is refused with a clear error', async () => {
    for (const url of ['/api/v1/devices?state=asleep', '/api/v1/devices?q=', '/api/v1/devices?limit=0', '/api/v1/devices?kind=drone', `/api/v1/devices?q=${'x'.repeat(101)}`]) {
      const res = await get(url, keys.contract_manager!)
      expect(res.statusCode, url).toBe(400)
      expect(res.json().message, url).toMatch(/querystring\//)
    }
  })

  test('the summary counts devices by kind and state', async () => {
    const res = await get('/api/v1/device-summary', keys.viewer!)
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.bin).toEqual({ total: 3, online: 1, silent: 2, lowBattery: 2, quarantined: 1, revoked: 1 })
    expect(body.vehicle).toEqual({ total: PAGED, online: PAGED, silent: 0, lowBattery: 0, quarantined: 0, revoked: 0 })
    expect(Math.abs(Date.parse(body.asOf) - Date.now())).toBeLessThan(60_000)
    expect((await get('/api/v1/device-summary', keys.crm!)).statusCode).toBe(403)
  })
})
