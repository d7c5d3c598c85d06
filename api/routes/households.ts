// The household record for the council's CRM and contact centre: a summary by UPRN, the paged
// history of its collections with outcomes and evidence, and search by UPRN, postcode or address.
// Every read of a household is written to the audit log (plugins/audit.ts).
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { localDate } from '../../analysis/calendar/dates.ts'
import type { Database } from '../../storage/database.ts'
import { collectionHistory, getHousehold, householdBins, nextCollections, searchHouseholds } from '../../storage/households.ts'
import { openReportsNow } from '../../analysis/first-contact/open-reports.ts'
import { auditEntries } from '../../storage/audit.ts'
import { rewardBalance } from '../../analysis/rewards/ledger.ts'
import { CollectionHistory, CollectionRecord, HouseholdMatch, HouseholdSummary, Stream } from '../schemas/households.ts'
import { DateTime, Errors, Paging, Uprn } from '../schemas/common.ts'
import { httpError } from '../errors.ts'

const READERS = ['crm', 'contract_manager'] as const

export const householdRoutes: FastifyPluginAsyncTypebox<{ db: Database; timezone: string }> = async (app, { db, timezone }) => {
  app.addSchema(HouseholdSummary)
  app.addSchema(CollectionRecord)
  app.addSchema(CollectionHistory)
  app.addSchema(HouseholdMatch)

  const found = async (uprn: number) => {
    const household = await getHousehold(db, uprn)
    if (!household) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No household with UPRN ${uprn}.`)
    return household
  }

  app.get('/households', {
    onRequest: app.requireRole(...READERS),
    schema: {
      tags: ['households'], summary: 'Find households by UPRN, postcode or part of the address', security: [{ apiKey: [] }],
      querystring: Type.Object({ q: Type.String({ minLength: 2, maxLength: 100 }), limit: Type.Integer({ minimum: 1, maximum: 50, default: 20 }) }),
      response: { 200: Type.Array(Type.Ref('HouseholdMatch')), ...Errors },
    },
  }, async (req) => searchHouseholds(db, req.query.q, req.query.limit))

  app.get('/households/:uprn', {
    onRequest: app.requireRole(...READERS),
    schema: {
      tags: ['households'], summary: "A household's bins and sensors, next collections, open reports and last lifts", security: [{ apiKey: [] }],
      params: Type.Object({ uprn: Uprn }), response: { 200: Type.Ref('HouseholdSummary'), ...Errors },
    },
  }, async (req) => {
    const household = await found(req.params.uprn)
    const [bins, next, reports, rewardPoints] = await Promise.all([
      householdBins(db, household.uprn), nextCollections(db, household.uprn, localDate(new Date(), timezone)), openReportsNow(db, household.uprn), rewardBalance(db, household.uprn),
    ])
    // Open reports as the evidence stands now (the first-contact check's), so they never contradict its verdict.
    const openReports = reports.map((r) => ({ ...r, evidenceAt: r.evidenceAt?.toISOString() ?? null }))
    return { household, bins, nextCollections: next, openReports, rewardBalance: rewardPoints }
  })

  app.get('/households/:uprn/collections', {
    onRequest: app.requireRole(...READERS),
    schema: {
      tags: ['households'], summary: 'Collection history, newest first, each with its outcome and the evidence that decided it', security: [{ apiKey: [] }],
      params: Type.Object({ uprn: Uprn }),
      querystring: Type.Composite([Paging, Type.Object({ stream: Type.Optional(Stream), from: Type.Optional(Type.String({ format: 'date' })), to: Type.Optional(Type.String({ format: 'date' })) })]),
      response: { 200: Type.Ref('CollectionHistory'), ...Errors },
    },
  }, async (req) => {
    await found(req.params.uprn)
    const { from, to } = req.query
    if (from && to && to < from) throw httpError(400, 'KERBSIDE_ERR_BAD_RANGE', '`to` must not be before `from`.')
    return collectionHistory(db, req.params.uprn, req.query)
  })

  app.get('/audit', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['access'], summary: 'Who read which personal data (a household, or a round, device, export…), how many rows, and when', security: [{ apiKey: [] }],
      querystring: Type.Composite([Paging, Type.Object({ uprn: Type.Optional(Uprn), from: DateTime, to: DateTime })]),
      response: {
        200: Type.Array(Type.Object({ id: Type.Integer(), at: DateTime, actor: Type.String(), actorName: Type.String(), role: Type.String(), action: Type.String(), uprn: Type.Union([Type.Integer(), Type.Null()]), status: Type.Integer(), ip: Type.Union([Type.String(), Type.Null()]),
          subject: Type.Union([Type.String(), Type.Null()], { description: 'What a read was about when not one household: a round, a device, a registry entity, a search' }),
          rows: Type.Union([Type.Integer(), Type.Null()], { description: 'Rows of personal data the answer gave out (bulk exports, lists)' }) })),
        ...Errors,
      },
    },
  }, async (req) => auditEntries(db, { ...req.query, from: new Date(req.query.from), to: new Date(req.query.to) }))
}
