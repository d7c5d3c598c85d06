// The collection calendar's rules as data: bank holidays of England and Wales, the council's own
// overrides (which regenerate the calendar at once), and a manual regeneration for operators.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Database } from '../../storage/database.ts'
import { bankHolidays } from '../../analysis/calendar/bank-holidays.ts'
import { isIsoDate } from '../../analysis/calendar/dates.ts'
import { CalendarRangeError, generateCalendar } from '../../analysis/calendar/generate.ts'
import { calendarHorizon } from '../../analysis/calendar/job.ts'
import { deleteOverride, listOverrides, putOverride } from '../../analysis/calendar/overrides.ts'
import { Errors } from '../schemas/common.ts'
import { httpError } from '../errors.ts'

const IsoDate = Type.String({ format: 'date', description: 'YYYY-MM-DD' })

export const CalendarOverride = Type.Object({
  originalDate: IsoDate,
  movedTo: Type.Union([IsoDate, Type.Null()], { description: 'The day collections move to; null = cancelled' }),
  reason: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
}, { $id: 'CalendarOverride' })

export const CalendarReport = Type.Object({
  from: IsoDate, to: IsoDate, today: IsoDate,
  rounds: Type.Integer(), collections: Type.Integer(), inserted: Type.Integer(), updated: Type.Integer(), removed: Type.Integer(), ms: Type.Integer(),
}, { $id: 'CalendarReport' })

const checkDate = (name: string, v: string) => {
  if (!isIsoDate(v)) throw httpError(400, 'KERBSIDE_ERR_BAD_DATE', `${name} must be a calendar day written YYYY-MM-DD, got ${v}.`)
}

export const calendarRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.addSchema(CalendarOverride)
  app.addSchema(CalendarReport)

  app.get('/calendar/bank-holidays', {
    onRequest: app.requireRole('contract_manager', 'viewer', 'crm'),
    schema: {
      tags: ['calendar'], summary: 'Bank holidays in England and Wales in a year (as gov.uk lists them, substitute days included)', security: [{ apiKey: [] }],
      querystring: Type.Object({ year: Type.Integer({ minimum: 1971, maximum: 2200 }) }),
      response: { 200: Type.Array(Type.Object({ date: IsoDate, name: Type.String() })), ...Errors },
    },
  }, async (req) => bankHolidays(req.query.year))

  app.get('/calendar/overrides', {
    onRequest: app.requireRole('contract_manager', 'viewer', 'crm'),
    schema: {
      tags: ['calendar'], summary: 'The council\'s calendar overrides', security: [{ apiKey: [] }],
      querystring: Type.Object({ from: Type.Optional(IsoDate), to: Type.Optional(IsoDate) }),
      response: { 200: Type.Array(Type.Ref('CalendarOverride')), ...Errors },
    },
  }, async (req) => listOverrides(db, req.query))

  app.put('/calendar/overrides/:originalDate', {
    onRequest: app.requireRole('contract_manager'),
    schema: {
      tags: ['calendar'], summary: 'Move (or cancel) the collections of one day; the calendar is regenerated at once',
      description: 'Takes precedence over the bank-holiday rule for that day. Councils use overrides for Christmas and New Year weeks.',
      security: [{ apiKey: [] }],
      params: Type.Object({ originalDate: IsoDate }),
      body: Type.Object({ movedTo: Type.Union([IsoDate, Type.Null()]), reason: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ override: Type.Ref('CalendarOverride'), calendar: Type.Ref('CalendarReport') }), ...Errors },
    },
  }, async (req) => {
    const { originalDate } = req.params
    checkDate('originalDate', originalDate)
    if (req.body.movedTo !== null) checkDate('movedTo', req.body.movedTo)
    const override = { originalDate, movedTo: req.body.movedTo, reason: req.body.reason ?? null }
    await putOverride(db, override)
    req.log.info({ override, by: req.caller?.keyId }, 'calendar override set')
    return { override, calendar: await generateCalendar(db, calendarHorizon(new Date())) }
  })

  app.delete('/calendar/overrides/:originalDate', {
    onRequest: app.requireRole('contract_manager'),
    schema: {
      tags: ['calendar'], summary: 'Remove an override; the day follows the bank-holiday rule again', security: [{ apiKey: [] }],
      params: Type.Object({ originalDate: IsoDate }),
      response: { 200: Type.Object({ calendar: Type.Ref('CalendarReport') }), ...Errors },
    },
  }, async (req) => {
    checkDate('originalDate', req.params.originalDate)
    if (!(await deleteOverride(db, req.params.originalDate))) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No override for ${req.params.originalDate}.`)
    req.log.info({ originalDate: req.params.originalDate, by: req.caller?.keyId }, 'calendar override removed')
    return { calendar: await generateCalendar(db, calendarHorizon(new Date())) }
  })

  app.post('/calendar/generate', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['calendar'], summary: 'Generate the collection calendar for a range now (default: today and the next eight weeks)',
      description: 'Idempotent. Rows due today or earlier are never changed or removed. The daily job does this for the next eight weeks.',
      security: [{ apiKey: [] }],
      querystring: Type.Object({ from: Type.Optional(IsoDate), to: Type.Optional(IsoDate) }),
      response: { 200: Type.Ref('CalendarReport'), ...Errors },
    },
  }, async (req) => {
    const horizon = calendarHorizon(new Date())
    try {
      return await generateCalendar(db, { from: req.query.from ?? horizon.from, to: req.query.to ?? horizon.to, today: horizon.today })
    } catch (err) {
      if (err instanceof CalendarRangeError) throw httpError(400, err.name, err.message)
      throw err
    }
  })
}
