// FixMyStreet's extension for updates in both directions (mySociety, "Open311 FMS Complete Spec"):
// GET Service Request Updates, every change of a report's status or notes, for CRMs that poll (oldest
// first, so that a client can carry on from the last updated_datetime it saw); POST Service Request
// Update, a resident's comment relayed by FixMyStreet or a CRM's status change, as Open311.pm sends it. Statuses are written in lower case like GeoReport's
// (FixMyStreet reads them case-insensitively).
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Database } from '../../../storage/database.ts'
import { listReportUpdates } from '../../../storage/reports.ts'
import { recordPostedUpdate } from '../../../storage/posted-report-updates.ts'
import { CREATE_ROLES, READ_ROLES, requireOpen311Key } from './access.ts'
import { badRequest, notFound } from './errors.ts'
import { parseW3DateTime } from './time.ts'
import { sendDocument } from './formats/respond.ts'
import { toRequestUpdate } from './representation.ts'
import { RESULT_LIMIT, dateWindow } from './request-filters.ts'
import { FormatParam, Open311Errors, POSTED_STATUSES, PostUpdateBody, UpdatesQuery, both } from './schemas.ts'

const CLOSING = new Set(['FIXED', 'CLOSED', 'DUPLICATE', 'NOT_COUNCILS_RESPONSIBILITY', 'NO_FURTHER_ACTION', 'INTERNAL_REFERRAL', 'UNABLE_TO_FIX', 'CANCELLED'])
const given = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim())

export const updateRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get('/servicerequestupdates.:format', {
    preValidation: requireOpen311Key(app, 'read service request updates', READ_ROLES),
    schema: {
      tags: ['open311'],
      summary: 'FixMyStreet GET Service Request Updates: status changes of missed-bin reports',
      description: 'Oldest first; the most recent 90 days unless start_date/end_date say otherwise (at most 90 days apart); at most 1,000. '
        + 'Deviation from the FixMyStreet spec, for data protection: needs a key with role crm, contract_manager or viewer.',
      security: [{ apiKey: [] }],
      params: Type.Object({ format: FormatParam }),
      querystring: UpdatesQuery,
      response: { 200: both(Type.Array(Type.Ref('Open311Update')), 'service_request_updates/request_update'), ...Open311Errors },
    },
  }, async (req, reply) => {
    const { from, to } = dateWindow(req.query.start_date, req.query.end_date)
    const updates = await listReportUpdates(db, { from, to, limit: RESULT_LIMIT })
    return sendDocument(reply, req.params.format, 'service_request_updates', updates.map(toRequestUpdate), { private: true })
  })

  app.post('/servicerequestupdates.:format', {
    preValidation: requireOpen311Key(app, 'post service request updates', CREATE_ROLES),
    schema: {
      tags: ['open311'],
      summary: 'FixMyStreet POST Service Request Update: a comment or status change on a missed-bin report',
      description: 'As mySociety\'s Open311.pm sends it: service_request_id, update_id_ext, status (OPEN, FIXED, CLOSED, …), updated_datetime, description and the sender\'s personal fields. '
        + 'Needs a key with role crm. Kerbside keeps the status and the sender\'s update id; a closing status closes the request. The comment, names, email and photo are not kept. '
        + 'A repeat of the same update_id_ext answers the same update_id.',
      security: [{ apiKey: [] }],
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      params: Type.Object({ format: FormatParam }),
      body: PostUpdateBody,
      response: { 200: both(Type.Array(Type.Ref('Open311UpdateCreated')), 'service_request_updates/request_update'), ...Open311Errors },
    },
  }, async (req, reply) => {
    const b = req.body
    const requestId = given(b.service_request_id)
    const senderRef = given(b.update_id_ext) ?? given(b.update_id)
    const status = given(b.status)?.toUpperCase()
    const missing = [!requestId && 'service_request_id', !senderRef && 'update_id_ext', !status && 'status'].filter(Boolean)
    if (missing.length > 0) throw badRequest(`${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required.`)
    if (!(POSTED_STATUSES as readonly string[]).includes(status!)) throw badRequest(`status ${status!.slice(0, 40)} is not one of ${POSTED_STATUSES.join(', ')}.`)
    const when = given(b.updated_datetime)
    const at = when === undefined ? undefined : parseW3DateTime(when)
    if (at === null) throw badRequest(`updated_datetime ${when!.slice(0, 40)} is not a W3C date-time with a time zone, e.g. 2024-05-13T09:30:00Z.`)
    if (at && at.getTime() > Date.now() + 5 * 60_000) throw badRequest('updated_datetime is in the future.')
    const report = /^\d{1,15}$/.test(requestId!) ? Number(requestId) : null
    const result = report === null ? null : await recordPostedUpdate(db, { reportId: report, status: CLOSING.has(status!) ? 'closed' : 'open', senderRef: senderRef!, sender: req.caller!.name, at })
    if (!result) throw notFound(`service_request_id ${requestId!.slice(0, 40)} was not found.`)
    req.log.info({ reportId: report, updateId: result.updateId, status, created: result.created, by: req.caller!.keyId }, result.created ? 'service request update received' : 'service request update repeated')
    return sendDocument(reply, req.params.format, 'service_request_updates', [{ update_id: String(result.updateId) }], { private: true })
  })
}
