// Regression for issue 19 (LOW): `?api%5Fkey=<key>` authenticated (the query parser decodes the
// name) but escaped the log's redaction, which matched the name literally, so the whole key was in
// an info line. Every form a key can take in a URL or header is sent to the API logging at trace
// level into a captured stream; the key appears in no line.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import { createLogger, redactUrl, silentLogger } from '../../core/log.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'

const lines: string[] = []
let db: Database
let app: Api
let key: string

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: createLogger({ level: 'trace', destination: { write: (l: string) => void lines.push(l) } }), registry: new Registry(), adminKey: 'admin-key-for-url-redaction-tests-00' })
  key = (await createApiKey(db, 'council CRM', 'crm')).key
})
afterAll(async () => { await app?.close(); await db?.close() })

const NAMES = ['api_key', 'api%5Fkey', 'api%5fkey', 'API_KEY', 'Api_Key', '%61pi_key', '%41PI%5FKEY', 'api_key%20', 'api_key[]', 'token', 'KEY', 'access_token']

test('a key in any URL form or header never reaches the log; the encoded name still authenticates', async () => {
  const encoded = await app.inject({ method: 'GET', url: `/open311/v2/requests.json?api%5Fkey=${key}` })
  expect(encoded.statusCode).toBe(200) // it is a key the API accepts, so it must be redacted too:
  expect(encoded.headers['open311-fields-needing-key']).toBeUndefined() // read as a key (a keyless answer names what it withheld)
  for (const name of NAMES) {
    await app.inject({ method: 'GET', url: `/open311/v2/requests.json?status=open&${name}=${key}` })
    await app.inject({ method: 'GET', url: `/api/v1/no-such-route?${name}=${key}&x=1` })
  }
  await app.inject({ method: 'GET', url: '/api/v1/devices', headers: { authorization: `Bearer ${key}` } })
  await app.inject({ method: 'GET', url: '/api/v1/devices', headers: { 'x-api-key': key } })
  await app.inject({ method: 'GET', url: '/api/v1/devices', headers: { 'X-API-KEY': `${key}x` } })
  const log = lines.join('')
  expect(lines.length).toBeGreaterThan(NAMES.length * 2)
  expect(log).toContain('api%5Fkey=[redacted]')
  expect(log).not.toContain(key)
})

test('redactUrl: every name the query parser reads as a credential, in any position', () => {
  expect(redactUrl('/a?api%5Fkey=k1&x=1')).toBe('/a?api%5Fkey=[redacted]&x=1')
  expect(redactUrl('/a?x=1&%41PI%5FKEY=k2')).toBe('/a?x=1&%41PI%5FKEY=[redacted]')
  expect(redactUrl('/a?api+key=k&api_key%=k3&api_key[0]=k4')).toBe('/a?api+key=[redacted]&api_key%=[redacted]&api_key[0]=[redacted]')
  expect(redactUrl('/a?monkey=banana&keys=1')).toBe('/a?monkey=banana&keys=1')
  expect(redactUrl('/a')).toBe('/a')
})
