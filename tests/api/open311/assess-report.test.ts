// The seam to the collection-outcome analysis: `assessReport` is called once a new report is stored,
// its verdict saved and shown to the reporter. Also: jurisdiction_id when one is configured, and the
// log, which carries neither the reporter's personal data nor API keys.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import Fastify from 'fastify'
import formbody from '@fastify/formbody'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { createLogger, silentLogger } from '../../../core/log.ts'
import { authPlugin } from '../../../api/plugins/auth.ts'
import { open311Routes, type Open311Options } from '../../../api/routes/open311/index.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { getReport, type AssessReport, type MissedReport, type ReportAssessment } from '../../../storage/reports.ts'
import { seedMinimalRegistry } from '../../helpers/stack.ts'
import { PERSONAL, UPRN_1, UPRN_2 } from './open311-client.ts'

const ADMIN = 'ks_admin000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
let db: Database
let crm: string
const logLines: string[] = []
const seen: MissedReport[] = []
let decide: (r: MissedReport) => Promise<ReportAssessment>
const assessReport: AssessReport = async (report) => {
  seen.push(report)
  return decide(report)
}

async function open311App(opts: Partial<Open311Options> = {}) {
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } })
  const app = Fastify({ loggerInstance: logger, ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } } }).withTypeProvider<TypeBoxTypeProvider>()
  await app.register(formbody)
  await app.register(authPlugin, { db, adminKey: ADMIN })
  await app.register(open311Routes, { prefix: '/open311/v2', db, assessReport, ...opts })
  return app
}
type App = Awaited<ReturnType<typeof open311App>>
let app: App

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedMinimalRegistry(db)
  crm = (await createApiKey(db, 'crm', 'crm')).key
  app = await open311App()
})
afterAll(async () => {
  await app?.close()
  await db?.close()
})
beforeEach(() => { seen.length = 0 })

const file = (date: string, extra: Record<string, string> = {}) => app.inject({
  method: 'POST', url: '/open311/v2/requests.json',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams({ api_key: crm, service_code: 'missed_residual', address_id: String(UPRN_1), 'attribute[collection_date]': date, description: 'Bin left full', ...PERSONAL, ...extra }).toString(),
})
const created = (res: { statusCode: number; body: string }) => {
  expect(res.statusCode, res.body).toBe(200)
  return (JSON.parse(res.body) as { service_request_id: string; service_notice: string }[])[0]!
}

describe('assessReport', () => {
  test('is given the stored report, without the reporter\'s personal data', async () => {
    decide = async () => ({ validity: 'pending' })
    created(await file('2024-05-06'))
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ uprn: UPRN_1, stream: 'residual', serviceCode: 'missed_residual', collectionDate: '2024-05-06', validity: 'pending', status: 'open', description: 'Bin left full' })
    for (const value of Object.values(PERSONAL)) expect(JSON.stringify(seen[0])).not.toContain(value)
  })

  test('a valid miss: the verdict is saved, and the reporter told when the crew returns', async () => {
    decide = async () => ({ validity: 'valid', reason: 'no lift and no crew exception', expectedDatetime: new Date('2024-05-14T15:00:00Z'), verdict: { lifts: 0, exceptions: 0 } })
    const answer = created(await file('2024-05-13'))
    expect(answer.service_notice).toBe('Missed collection confirmed. The crew will return to empty the bin by Tuesday 14 May 2024.')
    expect(await getReport(db, Number(answer.service_request_id))).toMatchObject({
      validity: 'valid', invalidReason: null, status: 'open', verdict: { lifts: 0, exceptions: 0 }, expectedDatetime: new Date('2024-05-14T15:00:00Z'),
      statusNotes: answer.service_notice, serviceNotice: answer.service_notice,
    })
    const one = await app.inject({ url: `/open311/v2/requests/${answer.service_request_id}.json?api_key=${crm}` })
    expect(JSON.parse(one.body)[0]).toMatchObject({ status: 'open', status_notes: answer.service_notice, expected_datetime: '2024-05-14T15:00:00Z' })
  })

  test('a report the evidence contradicts is recorded invalid, with its reason, and may be closed', async () => {
    decide = async () => ({ validity: 'invalid', reason: 'the crew recorded the bin as not presented at 07:42', close: true })
    const answer = created(await file('2024-04-29'))
    expect(answer.service_notice).toBe('This report does not match the collection records: the crew recorded the bin as not presented at 07:42.')
    expect(await getReport(db, Number(answer.service_request_id))).toMatchObject({ validity: 'invalid', invalidReason: 'the crew recorded the bin as not presented at 07:42', status: 'closed' })
    const updates = await app.inject({ url: `/open311/v2/servicerequestupdates.xml?api_key=${crm}` })
    expect(updates.body).toContain('<status>closed</status>')
  })

  test('its own status notes are shown as they are', async () => {
    decide = async () => ({ validity: 'pending', statusNotes: 'The round is still in progress: the crew is 6 streets away.' })
    expect(created(await file('2024-04-22')).service_notice).toBe('The round is still in progress: the crew is 6 streets away.')
  })

  test('when it fails, the report is kept, pending, and the failure logged', async () => {
    decide = async () => { throw new Error('outcome analysis unavailable') }
    const answer = created(await file('2024-04-15'))
    expect(answer.service_notice).toContain('Report received')
    expect(await getReport(db, Number(answer.service_request_id))).toMatchObject({ validity: 'pending', status: 'open' })
    const failure = logLines.map((l) => JSON.parse(l) as { msg: string; reportId?: number }).find((l) => l.msg.startsWith('assessing a missed-bin report failed'))
    expect(failure?.reportId).toBe(Number(answer.service_request_id))
  })

  test('is not asked again about a retried report', async () => {
    decide = async () => ({ validity: 'valid' })
    const first = created(await file('2024-04-08'))
    const retry = created(await file('2024-04-08'))
    expect(retry).toEqual(first)
    expect(seen).toHaveLength(1)
  })
})

describe('without an assessor', () => {
  test('reports stay pending', async () => {
    const plain = await open311App({ assessReport: undefined })
    try {
      const res = await plain.inject({ method: 'POST', url: '/open311/v2/requests.json', payload: { api_key: crm, service_code: 'missed_recycling', address_id: UPRN_2, attribute: { collection_date: '2024-05-15' } } })
      const id = Number(created(res).service_request_id)
      expect(await getReport(db, id)).toMatchObject({ validity: 'pending', verdict: null, assessedAt: null })
    } finally {
      await plain.close()
    }
  })
})

describe('jurisdiction_id, when the endpoint is configured with one', () => {
  test('another jurisdiction is 404; the same one, or none, is served', async () => {
    const scoped = await open311App({ jurisdictionId: 'liverpool.gov.uk' })
    try {
      const other = await scoped.inject({ url: '/open311/v2/services.xml?jurisdiction_id=wirral.gov.uk' })
      expect(other.statusCode).toBe(404)
      expect(other.body).toContain('<description>jurisdiction_id wirral.gov.uk was not found')
      const post = await scoped.inject({ method: 'POST', url: '/open311/v2/requests.json', payload: { api_key: crm, jurisdiction_id: 'wirral.gov.uk', service_code: 'missed_food', address_id: UPRN_2 } })
      expect(post.statusCode).toBe(404)
      expect(JSON.parse(post.body)).toEqual([{ code: 404, description: expect.stringContaining('wirral.gov.uk') }])
      expect((await scoped.inject({ url: '/open311/v2/services.json?jurisdiction_id=liverpool.gov.uk' })).statusCode).toBe(200)
      expect((await scoped.inject({ url: '/open311/v2/services.json?jurisdiction_id=' })).statusCode).toBe(200)
    } finally {
      await scoped.close()
    }
  })
})

test('the log carries neither the reporter\'s personal data nor API keys', () => {
  expect(logLines.length).toBeGreaterThan(10)
  const log = logLines.join('\n')
  for (const value of Object.values(PERSONAL)) expect(log).not.toContain(value)
  expect(log).not.toContain(crm)
})
