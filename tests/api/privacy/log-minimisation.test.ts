// Minimisation in the logs: the whole API logging at trace level into a captured pino stream, while a
// missed-bin report with the reporter's details is filed, dashboard users sign in (right and wrong
// password), and the data protection officer exports and erases a household. No name, email, phone,
// CRM account, password, session token or API key may appear in any line.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import { buildApi, type Api } from '../../../api/build-api.ts'
import { createLogger, silentLogger } from '../../../core/log.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { createUser } from '../../../storage/users.ts'
import { seedMinimalRegistry } from '../../helpers/stack.ts'

const ADMIN = 'admin-key-of-the-log-test-0123456789'
const UPRN = 100000000001
const REPORTER = { first_name: 'Philippa', last_name: 'Quartermaine', email: 'pq.reporter@example.org', phone: '07700 900461', account_id: 'CRM-ACC-7731' }
const PASSWORD = 'correct horse battery staple 42'
const lines: string[] = []
let db: Database
let app: Api
let crm: string

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  const logger = createLogger({ level: 'trace', destination: { write: (line: string) => void lines.push(line) } })
  app = await buildApi({ db, logger, registry: new Registry(), adminKey: ADMIN })
  await seedMinimalRegistry(db)
  await db.query(`UPDATE households SET crm_ref = 'CUS00000001' WHERE uprn = $1`, [UPRN])
  crm = (await createApiKey(db, 'council CRM', 'crm')).key
  await createUser(db, { username: 'agent.one', displayName: 'Winifred Ashdown-Pike', role: 'crm', password: PASSWORD })
})
afterAll(async () => { await app?.close(); await db?.close() })

test('a report, sign-ins, an export and an erasure leave no personal data or secret in the log', async () => {
  const form = new URLSearchParams({
    service_code: 'missed_residual', address_id: String(UPRN), ...REPORTER,
    description: `Not emptied. Ring me on ${REPORTER.phone} or write to ${REPORTER.email}`, 'attribute[bin_location_note]': 'by the side gate',
  })
  const filed = await app.inject({ method: 'POST', url: `/open311/v2/requests.json?api_key=${crm}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() })
  expect(filed.statusCode).toBe(200)
  const bad = await app.inject({ method: 'POST', url: '/open311/v2/requests.json', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ ...REPORTER, api_key: crm, service_code: 'missed_residual', address_id: 'not-a-uprn' }).toString() })
  expect(bad.statusCode).toBe(400)

  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'agent.one', password: PASSWORD } })
  expect(login.statusCode).toBe(200)
  const token = login.json<{ token: string }>().token
  expect((await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'agent.one', password: `${PASSWORD}!` } })).statusCode).toBe(401)
  expect((await app.inject({ method: 'GET', url: `/api/v1/households/${UPRN}`, headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200)

  const sar = await app.inject({ method: 'GET', url: `/api/v1/households/${UPRN}/subject-access`, headers: { 'x-api-key': ADMIN } })
  expect(sar.body).toContain(REPORTER.email) // the export has it; the log must not
  const erased = await app.inject({ method: 'POST', url: `/api/v1/households/${UPRN}/erasure`, headers: { 'x-api-key': ADMIN }, payload: { contact: { email: REPORTER.email, phone: REPORTER.phone } } })
  expect(erased.statusCode).toBe(200)

  const log = lines.join('')
  expect(lines.length).toBeGreaterThan(10)
  expect(log).toContain('missed-bin report filed')
  expect(log).toContain('dashboard sign-in')
  expect(log).toContain('personal data erased on request')
  for (const secret of [...Object.values(REPORTER), 'Ring me', 'Winifred', 'Ashdown-Pike', PASSWORD, token, crm, ADMIN, 'CUS00000001']) {
    expect(log, `the log carries ${secret}`).not.toContain(secret)
  }
})

test('the redaction paths cover the names the code gives personal data', () => {
  const captured: string[] = []
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void captured.push(line) } })
  const person = { email: 'a@b.example', phone: '07700 900000', firstName: 'Ada', lastName: 'Lovelace', first_name: 'Ada', last_name: 'Lovelace', accountId: 'ACC-1', account_id: 'ACC-1', displayName: 'Ada L', crmRef: 'CUS1', token: 'kss_abc', password: 'pw-123456' }
  logger.info({ ...person, report: person, contact: { email: 'c@d.example' } }, 'everything personal at once')
  const line = captured.join('')
  for (const value of [...Object.values(person), 'c@d.example']) expect(line).not.toContain(value)
  expect(line).toContain('[redacted]')
})
