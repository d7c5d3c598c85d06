// Proactive misses (analysis/proactive), the contractor's list of return collections, and why misses
// keep happening at a property or street. Reading is for contract managers, the CRM and viewers;
// confirming or withdrawing a miss by hand is the contract manager's.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { addDays, isIsoDate } from '../../analysis/calendar/dates.ts'
import { rectifyDeadline } from '../../analysis/first-contact/window.ts'
import { ukDate } from '../../analysis/outcomes/local-time.ts'
import { repeatPatterns } from '../../analysis/proactive/patterns.ts'
import { MISS_STATUS_VALUES, ProactiveMiss, RepeatPlace, RETURN_STATUS_VALUES, ReturnCollection } from '../../analysis/proactive/schema.ts'
import type { Database } from '../../storage/database.ts'
import { confirmMisses, getMiss, listMisses, listReturns, withdrawMisses, type ProactiveMiss as Miss } from '../../storage/proactive.ts'
import { httpError } from '../errors.ts'
import { Errors } from '../schemas/common.ts'

const READERS = ['contract_manager', 'crm', 'viewer'] as const
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })
const statusList = <T extends readonly string[]>(values: T) => Type.String({ pattern: `^(${values.join('|')})(,(${values.join('|')}))*$`, description: `Comma-separated: ${values.join(', ')}` })
const Paging = { limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }), offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }) }
const CollectionParams = Type.Object({ collectionId: Type.Integer({ minimum: 1 }) })

const iso = (d: Date | null) => (d ? d.toISOString() : null)
const missOut = (m: Miss) => ({
  ...m, raisedAt: m.raisedAt.toISOString(), confirmedAt: iso(m.confirmedAt), returnDue: iso(m.returnDue), withdrawnAt: iso(m.withdrawnAt),
  resolvedAt: iso(m.resolvedAt), updatedAt: m.updatedAt.toISOString(),
})
const day = (v: string | undefined, name: string) => {
  if (v !== undefined && !isIsoDate(v)) throw httpError(400, 'KERBSIDE_ERR_REQUEST', `${name} ${JSON.stringify(v)} is not a calendar day written YYYY-MM-DD.`)
  return v
}

export const proactiveRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  for (const s of [ProactiveMiss, ReturnCollection, RepeatPlace]) app.addSchema(s)

  app.get('/proactive/misses', {
    onRequest: app.requireRole(...READERS),
    schema: {
      tags: ['proactive'], summary: 'Misses found from the evidence before anyone reported them: suspected, confirmed, withdrawn, resolved', security: [{ apiKey: [] }],
      querystring: Type.Object({
        status: Type.Optional(statusList(MISS_STATUS_VALUES)), contractId: Type.Optional(Type.String()), roundId: Type.Optional(Type.String()),
        from: Type.Optional(Day), to: Type.Optional(Day), minConfidence: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
        uprn: Type.Optional(Type.Integer({ minimum: 1, maximum: 999_999_999_999 })), ...Paging,
      }),
      response: { 200: Type.Array(Type.Ref('ProactiveMiss')), ...Errors },
    },
  }, async (req) => {
    const q = req.query
    const rows = await listMisses(db, {
      status: q.status?.split(',') as Miss['status'][] | undefined, contractId: q.contractId, roundId: q.roundId,
      from: day(q.from, 'from'), to: day(q.to, 'to'), minConfidence: q.minConfidence, uprn: q.uprn, limit: q.limit, offset: q.offset,
    })
    return rows.map(missOut)
  })

  app.get('/proactive/misses/:collectionId', {
    onRequest: app.requireRole(...READERS),
    schema: { tags: ['proactive'], summary: 'One proactive miss with its evidence', security: [{ apiKey: [] }], params: CollectionParams, response: { 200: Type.Ref('ProactiveMiss'), ...Errors } },
  }, async (req) => {
    const m = await getMiss(db, req.params.collectionId)
    if (!m) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No proactive miss for collection ${req.params.collectionId}.`)
    return missOut(m)
  })

  app.post('/proactive/misses/:collectionId/confirm', {
    onRequest: app.requireRole('contract_manager'),
    schema: {
      tags: ['proactive'], summary: 'Confirm a suspected miss by hand: the return collection opens and the CRM is told', security: [{ apiKey: [] }],
      params: CollectionParams, response: { 200: Type.Ref('ProactiveMiss'), 409: Type.Ref('Error'), ...Errors },
    },
  }, async (req) => {
    const m = await getMiss(db, req.params.collectionId)
    if (!m) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No proactive miss for collection ${req.params.collectionId}.`)
    if (m.status !== 'suspected') throw httpError(409, 'KERBSIDE_ERR_CONFLICT', `The miss is ${m.status}; only a suspected miss can be confirmed.`)
    const now = new Date()
    const { rows: [terms] } = await db.query<{ days: number }>(`SELECT rectify_working_days AS days FROM contracts WHERE contract_id = $1`, [m.contractId])
    const passedAt = typeof m.evidence.passedAt === 'string' ? new Date(m.evidence.passedAt) : m.raisedAt
    await confirmMisses(db, [{ ...m, evidence: { ...m.evidence, confirmedBy: req.caller?.keyId ?? null }, returnDue: rectifyDeadline(now, terms?.days ?? 1), missedAt: passedAt, source: 'manual' }], now)
    req.log.info({ collectionId: m.collectionId, by: req.caller?.keyId }, 'proactive miss confirmed by hand')
    return missOut((await getMiss(db, m.collectionId))!)
  })

  app.post('/proactive/misses/:collectionId/withdraw', {
    onRequest: app.requireRole('contract_manager'),
    schema: {
      tags: ['proactive'], summary: 'Withdraw a suspected or confirmed miss (its open return is cancelled), with the reason', security: [{ apiKey: [] }],
      params: CollectionParams, body: Type.Object({ reason: Type.String({ minLength: 3, maxLength: 500 }) }, { additionalProperties: false }),
      response: { 200: Type.Ref('ProactiveMiss'), 409: Type.Ref('Error'), ...Errors },
    },
  }, async (req) => {
    const m = await getMiss(db, req.params.collectionId)
    if (!m) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No proactive miss for collection ${req.params.collectionId}.`)
    if (m.status !== 'suspected' && m.status !== 'confirmed') throw httpError(409, 'KERBSIDE_ERR_CONFLICT', `The miss is ${m.status} already.`)
    await withdrawMisses(db, [{ collectionId: m.collectionId, reason: `withdrawn by hand: ${req.body.reason}` }], new Date())
    req.log.info({ collectionId: m.collectionId, by: req.caller?.keyId }, 'proactive miss withdrawn by hand')
    return missOut((await getMiss(db, m.collectionId))!)
  })

  app.get('/returns', {
    onRequest: app.requireRole(...READERS),
    schema: {
      tags: ['proactive'], summary: 'The contractor\'s list of return collections, soonest due first (default: open ones)', security: [{ apiKey: [] }],
      querystring: Type.Object({ status: Type.Optional(statusList(RETURN_STATUS_VALUES)), contractId: Type.Optional(Type.String()), ...Paging }),
      response: { 200: Type.Array(Type.Ref('ReturnCollection')), ...Errors },
    },
  }, async (req) => {
    const rows = await listReturns(db, { status: (req.query.status ?? 'open').split(',') as ('open' | 'done' | 'cancelled')[], contractId: req.query.contractId, limit: req.query.limit, offset: req.query.offset })
    return rows.map((r) => ({ ...r, dueBy: r.dueBy.toISOString(), openedAt: r.openedAt.toISOString(), closedAt: iso(r.closedAt) }))
  })

  app.get('/proactive/patterns', {
    onRequest: app.requireRole('contract_manager', 'viewer'),
    schema: {
      tags: ['proactive'], summary: 'Why misses keep happening: repeat properties and streets, the recurring pattern and a suggested action', security: [{ apiKey: [] }],
      querystring: Type.Object({ from: Type.Optional(Day), to: Type.Optional(Day), contractId: Type.Optional(Type.String()), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }) }),
      response: { 200: Type.Array(Type.Ref('RepeatPlace')), ...Errors },
    },
  }, async (req) => {
    const to = day(req.query.to, 'to') ?? ukDate(new Date())
    const from = day(req.query.from, 'from') ?? addDays(to, -84)
    return repeatPatterns(db, { from, to, contractId: req.query.contractId ?? null, limit: req.query.limit })
  })
}
