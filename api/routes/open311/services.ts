// GET Service List and GET Service Definition (GeoReport v2): one service per waste stream,
// service_code missed_<stream>, each with the attributes that identify the missed collection.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { WASTE_STREAMS, type WasteStream } from '../../../core/contract/domain.ts'
import { notFound } from './errors.ts'
import { sendDocument } from './formats/respond.ts'
import { FormatParam, KeyQuery, Open311Errors, both } from './schemas.ts'

const STREAMS: Record<WasteStream, { label: string; keywords: string[] }> = {
  residual: { label: 'general waste', keywords: ['rubbish', 'refuse', 'general waste', 'residual waste', 'non-recyclable'] },
  recycling: { label: 'recycling', keywords: ['recycling', 'dry recycling', 'mixed recycling', 'paper', 'cans', 'plastic'] },
  garden: { label: 'garden waste', keywords: ['garden waste', 'green waste', 'grass', 'hedge cuttings'] },
  food: { label: 'food waste', keywords: ['food waste', 'food caddy', 'kitchen caddy'] },
  glass: { label: 'glass', keywords: ['glass', 'bottles', 'jars'] },
}

export interface Open311ServiceInfo {
  code: string
  stream: WasteStream
  name: string
  description: string
  keywords: string
  group: string
}

export const SERVICES: readonly Open311ServiceInfo[] = WASTE_STREAMS.map((stream) => ({
  code: `missed_${stream}`,
  stream,
  name: `Missed bin: ${STREAMS[stream].label}`,
  description: `Report a ${STREAMS[stream].label} bin that was put out on time on collection day but not emptied.`,
  keywords: ['missed bin', 'missed collection', 'bin not emptied', ...STREAMS[stream].keywords].join(', '),
  group: 'waste',
}))

export const serviceByCode = (code: string): Open311ServiceInfo | undefined => SERVICES.find((s) => s.code === code)

/** Service attributes, fields in the spec's order; `order` 1 is shown first. */
export const ATTRIBUTES = [
  {
    variable: true, code: 'uprn', datatype: 'number', required: true,
    datatype_description: 'Unique Property Reference Number: a whole number of up to 12 digits. May be sent as address_id instead; without either, lat and long locate the nearest household within 50 m.',
    order: 1, description: 'The property whose bin was missed.',
  },
  {
    variable: true, code: 'collection_date', datatype: 'datetime', required: false,
    datatype_description: 'YYYY-MM-DD (a full date-time is accepted; its date in UK time is used). Defaults to the latest collection due on or before today.',
    order: 2, description: 'The day the bin should have been emptied.',
  },
  {
    variable: true, code: 'bin_location_note', datatype: 'string', required: false,
    datatype_description: 'At most 200 characters.',
    order: 3, description: 'Where the bin was left out, e.g. "by the side gate".',
  },
  {
    variable: true, code: 'contacted_at', datatype: 'datetime', required: false,
    datatype_description: 'A date and time with its time zone (e.g. 2024-05-14T17:05:00+01:00), not in the future and not before the collection day. Defaults to the time the request is received.',
    order: 4, description: 'When the resident made contact: the reporting window is judged at this time (a CRM forwarding a call logged earlier, or after an outage).',
  },
] as const

const toService = (s: Open311ServiceInfo) => ({ service_code: s.code, service_name: s.name, description: s.description, metadata: true, type: 'realtime' as const, keywords: s.keywords, group: s.group })

export const serviceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/services.:format', {
    schema: {
      tags: ['open311'],
      summary: 'GeoReport v2 GET Service List: one missed-bin service per waste stream',
      description: 'Public, as the spec says: the list holds no data about anyone.',
      params: Type.Object({ format: FormatParam }),
      querystring: Type.Object(KeyQuery),
      response: { 200: both(Type.Array(Type.Ref('Open311Service')), 'services/service'), ...Open311Errors },
    },
  }, async (req, reply) => sendDocument(reply, req.params.format, 'services', SERVICES.map(toService)))

  app.get('/services/:service_code.:format', {
    schema: {
      tags: ['open311'],
      summary: 'GeoReport v2 GET Service Definition: the attributes of a missed-bin report',
      params: Type.Object({ service_code: Type.String(), format: FormatParam }),
      querystring: Type.Object(KeyQuery),
      response: { 200: both(Type.Ref('Open311ServiceDefinition'), 'service_definition'), ...Open311Errors },
    },
  }, async (req, reply) => {
    const service = serviceByCode(req.params.service_code)
    if (!service) throw notFound(`service_code ${req.params.service_code} was not found. GET services.${req.params.format} lists the codes.`)
    return sendDocument(reply, req.params.format, 'service_definition', { service_code: service.code, attributes: ATTRIBUTES })
  })
}
