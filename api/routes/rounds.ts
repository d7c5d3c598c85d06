// Rounds as the dashboard and the CRM see them: the list with sizes, and one round with its
// households in driving order and its next collection days.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { WASTE_STREAMS } from '../../core/contract/domain.ts'
import { localDate } from '../../analysis/calendar/dates.ts'
import type { Database } from '../../storage/database.ts'
import { getRound, listRounds } from '../../storage/registry/rounds.ts'
import { Errors, Paging, Uprn } from '../schemas/common.ts'
import { httpError } from '../errors.ts'

const Stream = Type.Union(WASTE_STREAMS.map((s) => Type.Literal(s)))
const IsoDate = Type.String({ format: 'date' })
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()])

export const Round = Type.Object({
  roundId: Type.String(),
  name: Type.String(),
  contractId: Type.String(),
  contractorId: Type.String(),
  stream: Stream,
  weekday: Type.Integer({ minimum: 1, maximum: 7, description: 'ISO weekday, 1 = Monday' }),
  frequency: Type.Union([Type.Literal('weekly'), Type.Literal('fortnightly')]),
  anchorDate: Type.String({ format: 'date', description: 'A day the round runs; fortnightly rounds run every 14 days from it' }),
  startsAt: Type.String({ description: 'HH:MM' }),
  endsAt: Type.String({ description: 'HH:MM' }),
  vehicleId: Nullable(Type.String()),
  vehicleRegistration: Nullable(Type.String()),
  subscription: Type.Boolean({ description: 'Only subscribed households are collected (garden waste)' }),
  active: Type.Boolean(),
  households: Type.Integer({ description: 'Households on the round' }),
}, { $id: 'Round' })
export type Round = Static<typeof Round>

export const RoundDetail = Type.Composite([Round, Type.Object({
  stops: Type.Array(Type.Object({
    position: Type.Integer(), uprn: Type.Optional(Uprn), address: Type.Optional(Type.String()), postcode: Nullable(Type.String()),
    lat: Type.Optional(Nullable(Type.Number())), lon: Type.Optional(Nullable(Type.Number())), assisted: Type.Optional(Type.Boolean()),
  }), { description: 'Households in driving order; UPRN, address, position and assisted flag for roles crm, contract_manager and admin only' }),
  upcoming: Type.Array(Type.Object({
    scheduledDate: IsoDate, dueDate: Type.String({ format: 'date', description: 'After bank-holiday shifts and council overrides' }),
    cancelled: Type.Boolean(), collections: Type.Integer(),
  }), { description: 'The next eight weeks of the collection calendar' }),
})], { $id: 'RoundDetail' })
export type RoundDetail = Static<typeof RoundDetail>

export const roundRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.addSchema(Round)
  app.addSchema(RoundDetail)

  app.get('/rounds', {
    onRequest: app.requireRole('contract_manager', 'viewer', 'crm'),
    schema: {
      tags: ['rounds'], summary: 'List rounds with their stream, day, frequency, vehicle and household count', security: [{ apiKey: [] }],
      querystring: Type.Composite([Paging, Type.Object({
        stream: Type.Optional(Stream),
        weekday: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 })),
        contractId: Type.Optional(Type.String({ maxLength: 64 })),
        vehicleId: Type.Optional(Type.String({ maxLength: 64 })),
        active: Type.Optional(Type.Boolean()),
      })]),
      response: { 200: Type.Array(Type.Ref('Round')), ...Errors },
    },
  }, async (req) => listRounds(db, req.query))

  app.get('/rounds/:roundId', {
    onRequest: app.requireRole('contract_manager', 'viewer', 'crm'),
    schema: {
      tags: ['rounds'], summary: 'One round: its households in driving order and its next collection days', security: [{ apiKey: [] }],
      params: Type.Object({ roundId: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: { 200: Type.Ref('RoundDetail'), ...Errors },
    },
  }, async (req) => {
    const round = await getRound(db, req.params.roundId, { today: localDate(new Date()), days: 56 })
    if (!round) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No round ${req.params.roundId}.`)
    return round
  })
}
