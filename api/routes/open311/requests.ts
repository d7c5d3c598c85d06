// GeoReport v2 POST Service Request, GET Service Requests and GET Service Request: missed-bin reports.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Database } from '../../../storage/database.ts'
import {
  type AssessReport, IdempotencyConflictError, type MissedReport, type ReportedHousehold,
  createReport, findHousehold, getReport, latestDueCollection, listReports, nearestHousehold, responsibleContractor, setReportVerdict,
} from '../../../storage/reports.ts'
import { CREATE_ROLES, READ_ROLES, requireOpen311Key } from './access.ts'
import { badRequest, notFound } from './errors.ts'
import { sendDocument } from './formats/respond.ts'
import { RECEIVED_NOTICE, fixMyStreetAttributes, noticeFor, toServiceRequest } from './representation.ts'
import { reportExtras } from '../../../storage/report-extras.ts'
import { readRequestFilters } from './request-filters.ts'
import { type ReportLocation, contactTimeOf, idempotencyKeyOf, readReportInput } from './request-input.ts'
import { ukInstant } from '../../../analysis/outcomes/local-time.ts'
import { CreateRequestBody, FormatParam, KeyQuery, Open311Errors, RequestsQuery, both } from './schemas.ts'
import { londonDate } from './time.ts'
import { stripFields } from '../../access-model.ts'
import { hiddenFields } from '../../plugins/audit.ts'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** Names, in a keyless answer, the fields withheld from it: they need a key (see KEYLESS_NOTE). */
export const WITHHELD_HEADER = 'Open311-Fields-Needing-Key'

const KEYLESS_NOTE = 'Without a key (as GeoReport v2 and FixMyStreet read requests), the public representation: status, notes, service, agency, dates and postcode, '
  + `but not address, address_id, lat, long (the household) nor description, media_url (what the resident gave): the ${WITHHELD_HEADER} header lists them. `
  + 'A key with role crm shows all of them, contract_manager the household fields, viewer none. The reporter\'s name, email, phone and CRM account are never returned. Rate-limited per client address.'

export interface RequestRoutesOptions {
  db: Database
  assessReport?: AssessReport
  /** Fallback agency_responsible when no contractor's round collects the stream there. */
  agencyResponsible?: string
  /** A report located by lat/long is about the nearest household within this distance. */
  locateWithinMetres: number
}

async function locate(db: Database, where: ReportLocation, withinMetres: number): Promise<ReportedHousehold> {
  if ('uprn' in where) {
    const household = await findHousehold(db, where.uprn)
    if (!household) throw badRequest(`address_id ${where.uprn} is not a property on our collection register.`)
    return household
  }
  const household = await nearestHousehold(db, where.lat, where.lon, withinMetres)
  if (!household) throw badRequest(`No property on our collection register lies within ${withinMetres} m of lat ${where.lat}, long ${where.lon}: send address_id (the UPRN).`)
  return household
}

export const requestRoutes: FastifyPluginAsyncTypebox<RequestRoutesOptions> = async (app, opts) => {
  const { db } = opts

  /** Run the analysis's assessment of a new report; a failure leaves the report pending, never loses it. */
  async function assess(report: MissedReport, log: { error: (o: object, m: string) => void }): Promise<MissedReport> {
    if (!opts.assessReport) return report
    try {
      const outcome = await opts.assessReport(report)
      const notice = noticeFor(outcome)
      return (await setReportVerdict(db, report.id, { ...outcome, statusNotes: outcome.statusNotes ?? notice, serviceNotice: notice })) ?? report
    } catch (err) {
      log.error({ err, reportId: report.id }, 'assessing a missed-bin report failed; it stays pending')
      return report
    }
  }

  app.post('/requests.:format', {
    preValidation: requireOpen311Key(app, 'create service requests', CREATE_ROLES),
    schema: {
      tags: ['open311'],
      summary: 'GeoReport v2 POST Service Request: report a missed bin',
      description: 'Form-encoded as the spec says (attribute[uprn]=…), or JSON. Needs a key with role crm. The property is address_id or attribute[uprn] (the UPRN), or the nearest household within 50 m of lat/long. '
        + 'A retry is answered with the same service_request_id: send an Idempotency-Key header, or repeat the identical report (same key, UPRN, stream and collection date) within 10 minutes. '
        + 'Reporter details (names, email, phone, device, account) are kept apart from the report and never returned.',
      security: [{ apiKey: [] }],
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      params: Type.Object({ format: FormatParam }),
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ description: 'Makes a retried POST return the first answer' })) }),
      body: CreateRequestBody,
      response: { 200: both(Type.Array(Type.Ref('Open311Created')), 'service_requests/request'), ...Open311Errors },
    },
  }, async (req, reply) => {
    const input = readReportInput(req.body)
    const idempotencyKey = idempotencyKeyOf(req.headers['idempotency-key'])
    const household = await locate(db, input.location, opts.locateWithinMetres)
    const stream = input.service.stream
    // The report is judged at the time the resident made contact, when the CRM says (attribute[contacted_at]).
    const now = new Date()
    const contactDay = input.contactedAt && input.contactedAt.getTime() < now.getTime() ? input.contactedAt : now
    const inferred = input.collectionDate ? null : await latestDueCollection(db, household.uprn, stream, londonDate(contactDay))
    const collectionDate = input.collectionDate ?? inferred
    const requestedAt = contactTimeOf(input.contactedAt, now, collectionDate ? ukInstant(collectionDate) : null)
    let result: { report: MissedReport; created: boolean }
    try {
      result = await createReport(db, {
        serviceCode: input.service.code, stream, uprn: household.uprn,
        collectionDate, collectionDateInferred: inferred !== null, requestedAt: input.contactedAt ? requestedAt : undefined,
        locatedBy: 'uprn' in input.location ? 'uprn' : 'latlong', locatedDistanceM: household.distanceM,
        description: input.description, binLocationNote: input.binLocationNote, mediaUrl: input.mediaUrl,
        agencyResponsible: (await responsibleContractor(db, household.uprn, stream)) ?? opts.agencyResponsible ?? null,
        serviceNotice: RECEIVED_NOTICE, source: req.caller!.keyId, idempotencyKey, contact: input.contact,
      })
    } catch (err) {
      if (err instanceof IdempotencyConflictError) throw badRequest(err.message)
      throw err
    }
    const report = result.created ? await assess(result.report, req.log) : result.report
    req.log.info({ reportId: report.id, serviceCode: report.serviceCode, created: result.created, validity: report.validity, by: req.caller!.keyId }, result.created ? 'missed-bin report filed' : 'missed-bin report repeated')
    return sendDocument(reply, req.params.format, 'service_requests', [{ service_request_id: String(report.id), service_notice: report.serviceNotice, account_id: input.contact.accountId ?? null }], { private: true })
  })

  app.get('/requests.:format', {
    preValidation: requireOpen311Key(app, 'read service requests', READ_ROLES, { keyless: true }),
    schema: {
      tags: ['open311'],
      summary: 'GeoReport v2 GET Service Requests: missed-bin reports by id, service, time and status',
      description: 'Newest first; the most recent 90 days unless start_date/end_date say otherwise (at most 90 days apart); at most 1,000. '
        + KEYLESS_NOTE,
      security: [{}, { apiKey: [] }],
      params: Type.Object({ format: FormatParam }),
      querystring: RequestsQuery,
      response: { 200: both(Type.Array(Type.Ref('Open311Request')), 'service_requests/request'), ...Open311Errors },
    },
  }, async (req, reply) => {
    const reports = await listReports(db, readRequestFilters(req.query))
    return sendDocument(reply, req.params.format, 'service_requests', asSeenBy(req, await representAll(db, req, reports), reply), { private: true })
  })

  app.get('/requests/:service_request_id.:format', {
    preValidation: requireOpen311Key(app, 'read service requests', READ_ROLES, { keyless: true }),
    schema: {
      tags: ['open311'],
      summary: 'GeoReport v2 GET Service Request: one missed-bin report',
      description: KEYLESS_NOTE,
      security: [{}, { apiKey: [] }],
      params: Type.Object({ service_request_id: Type.String(), format: FormatParam }),
      querystring: Type.Object(KeyQuery),
      response: { 200: both(Type.Array(Type.Ref('Open311Request')), 'service_requests/request'), ...Open311Errors },
    },
  }, async (req, reply) => {
    const { service_request_id: id, format } = req.params
    const report = /^\d{1,15}$/.test(id) ? await getReport(db, Number(id)) : null
    if (!report) throw notFound(`service_request_id ${id.slice(0, 40)} was not found.`)
    return sendDocument(reply, format, 'service_requests', asSeenBy(req, await representAll(db, req, [report]), reply), { private: true })
  })
}

/** The reports as service requests, with FixMyStreet's additional attributes when the caller's key asks for them. */
async function representAll(db: Database, req: FastifyRequest, reports: MissedReport[]) {
  if (!req.caller?.open311Extended) return reports.map(toServiceRequest)
  const extras = await reportExtras(db, reports.map((r) => r.id))
  return reports.map((r) => ({ ...toServiceRequest(r), ...fixMyStreetAttributes(r, extras.get(r.id)) }))
}

/**
 * The documents as the caller's role may see them (api/access-model.ts): the XML form is built
 * before it is sent, so the fields are removed here rather than at serialisation.
 */
function asSeenBy<T extends object>(req: FastifyRequest, docs: T[], reply: FastifyReply): T[] {
  const hidden = hiddenFields(req)
  stripFields(docs, hidden)
  if (!req.caller) void reply.header(WITHHELD_HEADER, [...hidden].join(', '))
  req.auditRows = docs.length
  return docs
}
