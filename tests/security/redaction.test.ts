// No secret in the log: the whole stack (broker, ingest, API) logging at trace level into a captured
// stream while devices log in with right and wrong MQTT passwords, Kerbside's services log in with
// the service secret, and API clients send keys in the Authorization and X-API-Key headers, in the
// `api_key` query parameter (Open311, WebSocket clients), and session tokens after a sign-in.
// Personal data in the log is covered by tests/api/privacy/log-minimisation.test.ts.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createContext, startAll, type Stack } from '../../cli/stack.ts'
import { loadConfig } from '../../core/config.ts'
import { createLogger, redactUrl } from '../../core/log.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import { createUser } from '../../storage/users.ts'
import { connectDevice, provision, seedMinimalRegistry } from '../helpers/stack.ts'

const lines: string[] = []
let stack: Stack
let dataDir: string
let adminKey: string
let serviceSecret: string

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kerbside-redaction-'))
  const config = loadConfig({}, { KERBSIDE_DATA_DIR: dataDir, MQTT_HOST: '127.0.0.1', MQTT_PORT: 0, MQTT_WS_PORT: 0, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0, KERBSIDE_JOBS: false, LOG_LEVEL: 'trace', INGEST_BATCH_MS: 20 })
  const ctx = createContext(config, createLogger({ level: 'trace', destination: { write: (l: string) => void lines.push(l) } }))
  adminKey = ctx.secrets.adminKey
  serviceSecret = ctx.secrets.serviceSecret
  stack = await startAll(ctx)
  await seedMinimalRegistry(stack.db)
})
afterAll(async () => {
  await stack?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

test('MQTT passwords, the service secret, API keys, query api_key and session tokens never reach the log', async () => {
  const secret = await provision(stack.db, 'sensor-r', 'bin', { binId: 'bin-1' })
  const wrong = 'wrong-mqtt-password-0f9e8d7c6b5a'
  const device = await connectDevice(stack.mqttUrl, 'sensor-r', secret)
  await device.publishAsync('kerbside/v1/bins/sensor-r/reading', JSON.stringify({ seq: 1, ts: new Date().toISOString(), fillPct: 3 }), { qos: 1 })
  await device.endAsync()
  await new Promise<void>((resolve) => {
    const c = mqtt.connect(stack.mqttUrl, { clientId: 'sensor-r', username: 'sensor-r', password: wrong, reconnectPeriod: 0 })
    c.once('error', () => { c.end(true); resolve() })
    c.once('close', () => resolve())
  })
  await new Promise<void>((resolve) => {
    const c = mqtt.connect(stack.mqttUrl, { clientId: 'kerbside-x', username: 'kerbside-x', password: `${serviceSecret}-not`, reconnectPeriod: 0 })
    c.once('error', () => { c.end(true); resolve() })
    c.once('close', () => resolve())
  })

  const api = stack.api.url
  const crm = (await createApiKey(stack.db, 'council CRM', 'crm')).key
  const password = 'staff password of the redaction test 9'
  await createUser(stack.db, { username: 'agent.r', displayName: 'Agent R', role: 'crm', password })
  await fetch(`${api}/api/v1/devices`, { headers: { authorization: `Bearer ${adminKey}` } })
  await fetch(`${api}/api/v1/devices`, { headers: { 'x-api-key': crm } })
  await fetch(`${api}/open311/v2/requests.json?api_key=${crm}&status=open`)
  await fetch(`${api}/open311/v2/requests.json?status=open&api_key=${crm}x`) // a wrong one, refused
  await fetch(`${api}/api/v1/no-such-route?api_key=${crm}`)
  const login = await fetch(`${api}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'agent.r', password }) })
  const { token } = await login.json() as { token: string }
  await fetch(`${api}/api/v1/households/100000000001`, { headers: { authorization: `Bearer ${token}` } })
  await fetch(`${api}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'agent.r', password: `${password}!` }) })
  await fetch(`${api}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })

  const log = lines.join('')
  expect(lines.length).toBeGreaterThan(20)
  expect(log).toContain('MQTT login refused')
  expect(log).toContain('/open311/v2/requests.json?api_key=[redacted]') // the request is logged, the key is not
  for (const s of [secret, wrong, serviceSecret, `${serviceSecret}-not`, adminKey, crm, token, password]) {
    expect(log, `the log carries ${s.slice(0, 6)}…`).not.toContain(s)
  }
})

test('redactUrl strips credentials from any position of a query string', () => {
  expect(redactUrl('/a?api_key=k1&x=1')).toBe('/a?api_key=[redacted]&x=1')
  expect(redactUrl('/a?x=1&API_KEY=k2')).toBe('/a?x=1&API_KEY=[redacted]')
  expect(redactUrl('/live?token=t1')).toBe('/live?token=[redacted]')
  expect(redactUrl('/a?key=k3')).toBe('/a?key=[redacted]')
})
