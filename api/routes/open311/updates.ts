// FixMyStreet's extension GET Service Request Updates (mySociety, "Open311 FMS Complete Spec"):
// every change of a report's status or notes, for CRMs that poll. Oldest first, so that a client can
// carry on from the last updated_datetime it saw. Statuses are written in lower case like GeoReport's
// (FixMyStreet reads them case-insensitively).
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Database } from '../../../storage/database.ts'
import { listReportUpdates } from '../../../storage/reports.ts'
import { READ_ROLES, requireOpen311Key } from './access.ts'
import { sendDocument } from './formats/respond.ts'
import { toRequestUpdate } from './representation.ts'
import { RESULT_LIMIT, dateWindow } from './request-filters.ts'
import { FormatParam, Open311Errors, UpdatesQuery, both } from './schemas.ts'

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
}
