// Data protection for the council's data protection officer (admin only): the subject-access export
// of everything held about a household, erasure of its personal data on request, the record of
// erasures, and what the retention job removed. The routes under /households/:uprn are written to
// the audit log like every read of a household (plugins/audit.ts). docs/data-protection.md.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { localDate } from '../../analysis/calendar/dates.ts'
import { ErasureRecord, ErasureResult, SubjectAccessExport } from '../../core/contract/privacy.ts'
import type { Database } from '../../storage/database.ts'
import { ErasureError, eraseHousehold, erasureRecords } from '../../storage/privacy/erasure.ts'
import { RETENTION_JOB } from '../../storage/privacy/retention.ts'
import { subjectAccessExport } from '../../storage/privacy/subject-access.ts'
import { httpError } from '../errors.ts'
import { Errors, Uprn } from '../schemas/common.ts'
import { ErasureBody, ErasuresQuery, RetentionRun, SubjectAccessQuery } from '../schemas/privacy.ts'

const notFound = (uprn: number) => httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No household with UPRN ${uprn}.`)

export const privacyRoutes: FastifyPluginAsyncTypebox<{ db: Database; timezone: string }> = async (app, { db, timezone }) => {
  app.addSchema(ErasureRecord)
  app.addSchema(ErasureResult)
  app.addSchema(SubjectAccessExport)
  app.addSchema(RetentionRun)
  const tags = ['data protection']

  app.get('/households/:uprn/subject-access', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags, summary: 'Subject-access export: everything Kerbside holds about a household, in one document that says what each part is', security: [{ apiKey: [] }],
      description: 'Sensor readings come summarised per day in full, and raw for the last rawDays days (rawReadings=all for every raw reading, none for the summary only).',
      params: Type.Object({ uprn: Uprn }), querystring: SubjectAccessQuery,
      response: { 200: Type.Ref('SubjectAccessExport'), ...Errors },
    },
  }, async (req, reply) => {
    const now = new Date()
    const doc = await subjectAccessExport(db, req.params.uprn, {
      rawReadings: req.query.rawReadings ?? 'recent', rawDays: req.query.rawDays, now, timeZone: timezone,
      requestedBy: { actor: req.caller!.keyId, role: req.caller!.role },
    })
    if (!doc) throw notFound(req.params.uprn)
    void reply.header('content-disposition', `attachment; filename="subject-access-${req.params.uprn}-${localDate(now, timezone)}.json"`)
    return doc
  })

  app.post('/households/:uprn/erasure', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags, summary: "Erase a household's personal data on request; reports, readings, lifts, outcomes and KPIs stay whole", security: [{ apiKey: [] }],
      description: "Erases reporters' contact details, the free text and photos of missed-bin reports, the CRM reference (also on outbox events), optionally the assisted-collection flag and the requester's details on reports about other properties. Keeps a record of the erasure (counts, never content).",
      params: Type.Object({ uprn: Uprn }), body: ErasureBody,
      response: { 200: Type.Ref('ErasureResult'), ...Errors },
    },
  }, async (req) => {
    const { keyId, name, role } = req.caller!
    try {
      const result = await eraseHousehold(db, { uprn: req.params.uprn, actor: { actor: keyId, actorName: name, role }, ...req.body })
      if (!result) throw notFound(req.params.uprn)
      req.log.info({ uprn: req.params.uprn, erasureId: result.record.erasureId, erased: result.record.erased, by: keyId }, 'personal data erased on request')
      return result
    } catch (err) {
      if (err instanceof ErasureError) throw httpError(400, err.name, err.message)
      throw err
    }
  })

  app.get('/privacy/erasures', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags, summary: 'Erasures made, oldest first: what to apply again after restoring a backup', security: [{ apiKey: [] }],
      querystring: ErasuresQuery, response: { 200: Type.Array(Type.Ref('ErasureRecord')), ...Errors },
    },
  }, async (req) => erasureRecords(db, req.query))

  app.get('/privacy/retention', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags, summary: 'The retention job\'s recent runs: the periods applied and what each run removed', security: [{ apiKey: [] }],
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 400, default: 30 }) }),
      response: { 200: Type.Array(Type.Ref('RetentionRun')), ...Errors },
    },
  }, async (req) => (await db.query(
    `SELECT period, status, started_at AS "startedAt", finished_at AS "finishedAt", detail FROM job_runs WHERE job = $1 ORDER BY period DESC LIMIT $2`,
    [RETENTION_JOB, req.query.limit])).rows)
}
