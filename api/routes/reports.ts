// Missed-bin reports for the dashboard's reports list: Open311 GET requests.json carries neither the
// validity nor the reason a report was judged invalid, which the contract manager needs beside the
// status and the return-visit deadline. Same roles as reading Open311 requests; never the reporter.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Database } from '../../storage/database.ts'
import { getReport, listReports } from '../../storage/reports.ts'
import { httpError } from '../errors.ts'
import { Errors } from '../schemas/common.ts'
import { ReportRow, ReportsQuery } from '../schemas/reports.ts'
import { hiddenFields } from '../plugins/audit.ts'

/** The next page's link: this request's URL (without an api_key put in the query) after the page's last report. */
function nextLink(req: FastifyRequest, lastId: number, limit: number): string {
  const url = new URL(req.url, 'http://kerbside.invalid')
  url.searchParams.delete('api_key')
  url.searchParams.set('after', String(lastId))
  url.searchParams.set('limit', String(limit))
  return `<${url.pathname}${url.search}>; rel="next"`
}

export const reportRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.addSchema(ReportRow)

  app.get('/reports', {
    onRequest: app.requireRole('crm', 'contract_manager', 'viewer'),
    schema: {
      tags: ['open311'], summary: 'Missed-bin reports, newest first, with status, validity and the return-visit deadline, a page at a time', security: [{ apiKey: [] }],
      description: 'Newest first (requested_at, then report id, both descending: an order that does not change as reports are made). A page has at most `limit` reports; when there are more, the answer has a `Link` header with rel="next", the URL of the next page (`after` = the last reportId of this page, the same filters). No Link header: this is the last page.',
      querystring: ReportsQuery, response: { 200: Type.Array(Type.Ref('ReportRow')), ...Errors },
    },
  }, async (req, reply) => {
    const q = req.query
    // Which reports a property has is about that property: a role that may not see UPRNs may not ask by one.
    if (q.uprn !== undefined && hiddenFields(req).has('uprn')) throw httpError(403, 'KERBSIDE_ERR_FORBIDDEN', `Reports by UPRN need one of the roles crm, contract_manager; your key has the role ${req.caller?.role ?? 'unknown'}.`)
    const from = q.from ? new Date(q.from) : undefined
    const to = q.to ? new Date(q.to) : undefined
    if (from && to && to < from) throw httpError(400, 'KERBSIDE_ERR_BAD_RANGE', '`to` must not be before `from`.')
    const reports = await listReports(db, {
      statuses: q.status ? [q.status] : undefined, validities: q.validity ? [q.validity] : undefined,
      serviceCodes: q.stream ? [`missed_${q.stream}`] : undefined, uprn: q.uprn, from, to, limit: q.limit + 1, after: q.after,
    })
    if (q.after !== undefined && reports.length === 0 && !(await getReport(db, q.after))) {
      throw httpError(400, 'KERBSIDE_ERR_BAD_CURSOR', `There is no report ${q.after}: \`after\` is the last reportId of the previous page.`)
    }
    const page = reports.slice(0, q.limit)
    if (reports.length > q.limit) void reply.header('link', nextLink(req, page[page.length - 1]!.id, q.limit))
    return page.map((r) => ({
      reportId: r.id, serviceCode: r.serviceCode, stream: r.stream, uprn: r.uprn, address: r.address, postcode: r.postcode,
      collectionDate: r.collectionDate, requestedAt: r.requestedAt.toISOString(), status: r.status, statusNotes: r.statusNotes,
      validity: r.validity, invalidReason: r.invalidReason, expectedDatetime: r.expectedDatetime?.toISOString() ?? null,
      closedAt: r.closedAt?.toISOString() ?? null, agencyResponsible: r.agencyResponsible,
    }))
  })
}
