// Missed-bin reports over Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2), as council
// CRMs and FixMyStreet-style portals speak it, with FixMyStreet's update feed. Mounted at
// /open311/v2 with its own error and not-found handlers, so every answer under that prefix, errors
// included, is in the spec's format.
//
// Deviations from the spec, on purpose:
// - Requests are read without a key, as the spec and FixMyStreet do, but then without the household's
//   address, UPRN and position or what the resident wrote (a key with a role shows what it may see).
//   The update feed needs a key (crm, contract_manager or viewer). Service list and definitions are public.
// - POST servicerequestupdates (mySociety's extension) keeps the status and the sender's update id,
//   not the comment's words nor the sender's personal fields.
// - address_string alone is refused (400): Kerbside does not geocode; address_id (the UPRN) or
//   lat/long (nearest household within 50 m) locate the property.
// - The reporter's personal data is kept apart and never returned; descriptions are minimised.
// - Kerbside's own failures are 500 (not the spec's catch-all 400), rate limiting is 429.
//
// The verdict on each report (a real miss, or contradicted by the evidence) is the collection-outcome
// analysis's to make: it is injected as `assessReport`, called once a new report is stored. Without
// it, reports stay pending until the analysis records a verdict with storage/reports setReportVerdict.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Database } from '../../../storage/database.ts'
import type { AssessReport } from '../../../storage/reports.ts'
import { discoveryRoutes } from './discovery.ts'
import { notFound, open311ErrorHandler, open311NotFound } from './errors.ts'
import { requestRoutes } from './requests.ts'
import { OPEN311_SCHEMAS } from './schemas.ts'
import { serviceRoutes } from './services.ts'
import { updateRoutes } from './updates.ts'

export interface Open311Options {
  db: Database
  /** The seam to the collection-outcome analysis (see above). */
  assessReport?: AssessReport
  /** When set, a request naming another jurisdiction_id is answered 404; when unset, it is ignored (one jurisdiction). */
  jurisdictionId?: string
  /** agency_responsible when no contractor's round collects the stream at the property. */
  agencyResponsible?: string
  /** Radius for locating a report by lat/long; 50 m by default. */
  locateWithinMetres?: number
  /** Service Discovery's contact: how to get help with this endpoint. */
  contact?: string
}

function jurisdictionOf(req: FastifyRequest): unknown {
  return (req.body as { jurisdiction_id?: unknown } | undefined)?.jurisdiction_id ?? (req.query as { jurisdiction_id?: unknown }).jurisdiction_id
}

export const open311Routes: FastifyPluginAsyncTypebox<Open311Options> = async (app, opts) => {
  app.setErrorHandler(open311ErrorHandler)
  app.setNotFoundHandler(open311NotFound)
  for (const schema of OPEN311_SCHEMAS) app.addSchema(schema)
  const jurisdiction = opts.jurisdictionId
  if (jurisdiction) {
    app.addHook('preValidation', async (req) => {
      const given = jurisdictionOf(req)
      if (typeof given === 'string' && given.trim() !== '' && given.trim() !== jurisdiction) throw notFound(`jurisdiction_id ${given.slice(0, 64)} was not found; this endpoint serves ${jurisdiction}.`)
    })
  }
  await app.register(discoveryRoutes, { contact: opts.contact })
  await app.register(serviceRoutes)
  await app.register(requestRoutes, { db: opts.db, assessReport: opts.assessReport, agencyResponsible: opts.agencyResponsible, locateWithinMetres: opts.locateWithinMetres ?? 50 })
  await app.register(updateRoutes, { db: opts.db })
}
