// The first-contact check for the contact centre: a resident says their bin was not emptied; the
// verdict from the evidence, the timeline behind it, and what to tell them (analysis/first-contact).
// Under /households/:uprn, so every check is written to the household audit log (plugins/audit.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isIsoDate } from '../../analysis/calendar/dates.ts'
import { firstContactCheck, HouseholdNotFoundError } from '../../analysis/first-contact/check.ts'
import { FirstContactAnswer, FirstContactParams, FirstContactQuery } from '../../analysis/first-contact/schema.ts'
import type { Database } from '../../storage/database.ts'
import { httpError } from '../errors.ts'
import { Errors } from '../schemas/common.ts'

const CHECKERS = ['crm', 'contract_manager'] as const

export const firstContactRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.addSchema(FirstContactAnswer)

  app.get('/households/:uprn/first-contact', {
    onRequest: app.requireRole(...CHECKERS),
    schema: {
      tags: ['households'],
      summary: 'First-contact check: was this bin really missed, and what to tell the resident',
      description: 'The verdict — genuine_miss, collected, crew_exception, round_in_progress, not_scheduled or outside_reporting_window — '
        + 'for the collection of `stream` on `date` (default: the latest due on or before today), with the evidence timeline and the next action and its deadline. '
        + '`at` re-examines the evidence as it stood at an earlier instant.',
      security: [{ apiKey: [] }],
      params: FirstContactParams,
      querystring: FirstContactQuery,
      response: { 200: FirstContactAnswer, ...Errors },
    },
  }, async (req) => {
    const { stream, date, at } = req.query
    if (date !== undefined && !isIsoDate(date)) throw httpError(400, 'KERBSIDE_ERR_REQUEST', `date ${JSON.stringify(date)} is not a calendar day written YYYY-MM-DD.`)
    try {
      return await firstContactCheck(db, { uprn: req.params.uprn, stream, date: date ?? null, at: at ? new Date(at) : undefined })
    } catch (err) {
      if (err instanceof HouseholdNotFoundError) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', err.message)
      throw err
    }
  })
}
