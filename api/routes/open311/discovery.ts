// Service Discovery, which GeoReport v2 requires of every endpoint (http://wiki.open311.org/Service_Discovery):
// where the endpoint is, which specification and formats it speaks, whom to ask and how to get a key.
// Served at /open311/v2/discovery.{json,xml}; the document "must end in /discovery.<format>".
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { CONTENT_TYPE, FORMATS, sendDocument } from './formats/respond.ts'
import { FormatParam, Open311Errors, both } from './schemas.ts'

/** When the service list or definitions last changed: clients refresh their cached copies after it. */
export const SERVICES_CHANGESET = '2026-11-23T00:00:00Z'

export interface DiscoveryOptions {
  /** How to get help with this endpoint (the council's contact). */
  contact?: string
}

export const discoveryRoutes: FastifyPluginAsyncTypebox<DiscoveryOptions> = async (app, opts) => {
  app.get('/discovery.:format', {
    schema: {
      tags: ['open311'],
      summary: 'Open311 Service Discovery: this GeoReport v2 endpoint, its formats and how to get a key',
      params: Type.Object({ format: FormatParam }),
      response: { 200: both(Type.Ref('Open311Discovery'), 'discovery'), ...Open311Errors },
    },
  }, async (req, reply) => sendDocument(reply, req.params.format, 'discovery', {
    changeset: SERVICES_CHANGESET,
    contact: opts.contact ?? 'Ask the council that runs this Kerbside service for help with its Open311 endpoint.',
    key_service: 'API keys are issued by the council\'s Kerbside administrator: role crm to file missed-bin reports; crm, contract_manager or viewer to read them.',
    endpoints: [{
      specification: 'http://wiki.open311.org/GeoReport_v2',
      url: `${req.protocol}://${req.host}/open311/v2`,
      changeset: SERVICES_CHANGESET,
      type: 'production',
      formats: FORMATS.map((f) => CONTENT_TYPE[f].split(';')[0]!),
    }],
  }))
}
