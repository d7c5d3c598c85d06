// Bins as FIWARE WasteContainer entities through a read-only NGSI-LD API (ETSI GS CIM 009), for the
// council's smart-city platform: Query Entities (GET /entities) and Retrieve Entity
// (GET /entities/{id}), normalized or simplified, with NGSI-LD's paging, `q`, geo-queries, `attrs`,
// content negotiation and ProblemDetails errors. Roles: viewer, contract_manager and crm (and
// admin); the view holds no personal data (api/ngsi/waste-container.ts).
import { Type } from '@sinclair/typebox'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { localDate } from '../../analysis/calendar/dates.ts'
import type { Database } from '../../storage/database.ts'
import { ContainerQueryError, countContainers, listContainers, type Condition, type ContainerFilter } from '../../storage/waste-containers.ts'
import { negotiate } from '../ngsi/negotiate.ts'
import { NgsiLdError, ngsiErrorHandler } from '../ngsi/problem.ts'
import { parseGeoQuery, parseQ } from '../ngsi/query.ts'
import { isUri } from '../ngsi/uri.ts'
import { CONTEXT_LINK, project, render, type Format, type MediaType } from '../ngsi/representation.ts'
import { ENTITY_TYPE, ENTITY_TYPE_URI, publicIdOf, toWasteContainer } from '../ngsi/waste-container.ts'
import { DEFAULT_LIMIT, EntitiesQuery, EntityParams, EntityQuery, MAX_LIMIT, NgsiErrors, ProblemDetails, WasteContainerEntity } from '../schemas/ngsi-ld.ts'

const ROLES = ['viewer', 'contract_manager', 'crm'] as const
const bad = (detail: string) => new NgsiLdError('BadRequestData', detail)
const list = (csv: string | undefined) => csv?.split(',').map((s) => s.trim()).filter(Boolean)

/** `options` and `format` as a representation and whether a count was asked for. */
function representation(q: { options?: string; format?: string }): { format: Format; count: boolean } {
  let format: Format = 'normalized'
  let count = false
  for (const o of list(q.options) ?? []) {
    if (o === 'keyValues' || o === 'simplified') format = 'keyValues'
    else if (o === 'normalized') format = 'normalized'
    else if (o === 'count') count = true
    else throw bad(`options=${o} is not supported here: use keyValues, simplified, normalized or count`)
  }
  if (q.format !== undefined) {
    if (q.format === 'simplified' || q.format === 'keyValues') format = 'keyValues'
    else if (q.format === 'normalized') format = 'normalized'
    else throw bad(`format=${q.format} is not supported here: use simplified or normalized`)
  }
  return { format, count }
}

function mediaOf(req: FastifyRequest): MediaType {
  const media = negotiate(req.headers.accept)
  if (!media) throw Object.assign(new Error('This API answers application/json or application/ld+json.'), { statusCode: 406 })
  return media
}

const isOurType = (t: string) => t === ENTITY_TYPE || t === ENTITY_TYPE_URI

function send(reply: FastifyReply, media: MediaType, body: unknown, links: string[] = []) {
  const all = media === 'application/json' ? [CONTEXT_LINK, ...links] : links
  if (all.length > 0) void reply.header('link', all.join(', '))
  return reply.type(media).send(body)
}

/** The next page's URL, without an api_key the client may have put in the query string. */
function nextLink(req: FastifyRequest, offset: number, limit: number): string {
  const url = new URL(req.url, 'http://kerbside.invalid')
  url.searchParams.delete('api_key')
  url.searchParams.set('offset', String(offset + limit))
  url.searchParams.set('limit', String(limit))
  return `<${url.pathname}${url.search}>; rel="next"`
}

export const ngsiLdRoutes: FastifyPluginAsyncTypebox<{ db: Database; timeZone: string }> = async (app, { db, timeZone }) => {
  app.addSchema(WasteContainerEntity)
  app.addSchema(ProblemDetails)
  app.setErrorHandler((err: FastifyError, req, reply) => ngsiErrorHandler(err instanceof ContainerQueryError ? new NgsiLdError('BadRequestData', err.message) : err, req, reply))
  app.setNotFoundHandler((req, reply) => ngsiErrorHandler(Object.assign(new Error(
    `No ${req.method} ${req.url.split('?')[0]} here. Kerbside's NGSI-LD interface is read-only: GET /ngsi-ld/v1/entities?type=WasteContainer and GET /ngsi-ld/v1/entities/{id}.`,
  ), { statusCode: 404 }), req, reply))
  const clock = () => ({ today: localDate(new Date(), timeZone), timeZone })

  app.get('/entities', {
    onRequest: app.requireRole(...ROLES),
    schema: {
      tags: ['ngsi-ld'], summary: 'NGSI-LD Query Entities: bins as FIWARE WasteContainer entities, paged by limit and offset',
      description: `Filter by type, id, q (e.g. q=fillingLevel>0.8;wardId=="Central") and geo-query (near;maxDistance, within a Polygon such as a bounding box). options=keyValues gives the simplified form; count=true the total in NGSILD-Results-Count. At most ${MAX_LIMIT} per page (default ${DEFAULT_LIMIT}).`,
      security: [{ apiKey: [] }], querystring: EntitiesQuery,
      response: { 200: Type.Array(Type.Ref('WasteContainer'), { description: 'application/json (@context in the Link header) or application/ld+json' }), ...NgsiErrors },
    },
  }, async (req, reply) => {
    const media = mediaOf(req)
    const q = req.query
    const { format, count } = representation(q)
    const types = list(q.type)
    const ids = list(q.id)
    const notUri = ids?.find((id) => !isUri(id))
    if (notUri !== undefined) throw bad(`id=${notUri} is not a URI: entity ids look like urn:ngsi-ld:WasteContainer:<20 hex digits>.`)
    const attrs = list(q.attrs)
    const geo = parseGeoQuery(q)
    if (!types && !ids && !attrs && q.q === undefined && !geo) throw bad('Query Entities needs at least one of type, id, attrs, q or a geo-query, e.g. type=WasteContainer.')
    if (q.limit > MAX_LIMIT) throw new NgsiLdError('TooManyResults', `limit may be at most ${MAX_LIMIT}; page with offset.`)
    if (q.limit === 0 && !(count || q.count)) throw bad('limit=0 is only meaningful with count=true.')
    const wantCount = count || q.count === true

    const publicIds = ids?.map(publicIdOf).filter((b): b is string => b !== null)
    const empty = (types && !types.some(isOurType)) || (ids && publicIds!.length === 0)
    const where: Condition[] = []
    if (q.q !== undefined) where.push(parseQ(q.q))
    if (attrs) where.push({ or: attrs.map((attr) => ({ attr, exists: true as const })) })
    const filter: ContainerFilter = { publicIds, where: where.length > 0 ? { and: where } : undefined, geo }

    if (wantCount) void reply.header('NGSILD-Results-Count', empty ? 0 : await countContainers(db, filter, clock()))
    if (empty || q.limit === 0) return send(reply, media, [])
    const rows = await listContainers(db, { ...filter, limit: q.limit + 1, offset: q.offset }, clock())
    const page = rows.slice(0, q.limit).map((r) => render(project(toWasteContainer(r), attrs), format, media))
    return send(reply, media, page, rows.length > q.limit ? [nextLink(req, q.offset, q.limit)] : [])
  })

  app.get('/entities/:entityId', {
    onRequest: app.requireRole(...ROLES),
    schema: {
      tags: ['ngsi-ld'], summary: 'NGSI-LD Retrieve Entity: one bin as a FIWARE WasteContainer',
      security: [{ apiKey: [] }], params: EntityParams, querystring: EntityQuery,
      response: { 200: Type.Ref('WasteContainer'), ...NgsiErrors },
    },
  }, async (req, reply) => {
    const media = mediaOf(req)
    const { format, count } = representation(req.query)
    if (count) throw bad('options=count applies to Query Entities only.')
    const types = list(req.query.type)
    if (!isUri(req.params.entityId)) throw bad(`${req.params.entityId} is not a URI, so it cannot be an entity id: WasteContainer ids are urn:ngsi-ld:WasteContainer:<20 hex digits>.`)
    const publicId = publicIdOf(req.params.entityId)
    const notFound = new NgsiLdError('ResourceNotFound', `No entity ${req.params.entityId} here: WasteContainer ids are urn:ngsi-ld:WasteContainer:<20 hex digits>, as listed by GET /ngsi-ld/v1/entities?type=WasteContainer, for active bins at a household with coordinates.`)
    if (!publicId || (types && !types.some(isOurType))) throw notFound
    const [row] = await listContainers(db, { publicIds: [publicId], limit: 1, offset: 0 }, clock())
    if (!row) throw notFound
    return send(reply, media, render(project(toWasteContainer(row), list(req.query.attrs)), format, media))
  })
}
