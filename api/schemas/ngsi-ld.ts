// Request and response shapes of the NGSI-LD view (api/routes/ngsi-ld.ts), declared once. Query
// parameters keep NGSI-LD's names (ETSI GS CIM 009, "Query Entities" and "Retrieve Entity").
import { Type, type Static } from '@sinclair/typebox'

export const MAX_LIMIT = 1000
export const DEFAULT_LIMIT = 20

const Csv = (description: string) => Type.Optional(Type.String({ maxLength: 4000, description }))

const Representation = {
  attrs: Csv('Attributes to return, comma-separated; an entity without any of them is left out of a query'),
  options: Csv('keyValues (or simplified) for the simplified representation, normalized (the default), count'),
  format: Type.Optional(Type.String({ description: 'simplified, keyValues or normalized (NGSI-LD 1.7+ spelling of options)' })),
}

export const EntitiesQuery = Type.Object({
  type: Csv('Entity types, comma-separated: WasteContainer (or its expanded URI)'),
  id: Csv('Entity ids, comma-separated: urn:ngsi-ld:WasteContainer:<20 hex digits> (opaque, stable; never the bin id or UPRN)'),
  q: Type.Optional(Type.String({ maxLength: 4000, description: 'NGSI-LD query, e.g. fillingLevel>0.8;wardId=="Central"' })),
  georel: Type.Optional(Type.String({ description: 'near;maxDistance==<metres>, within, intersects or disjoint' })),
  geometry: Type.Optional(Type.String({ description: 'Point (near) or Polygon / MultiPolygon' })),
  coordinates: Type.Optional(Type.String({ maxLength: 100_000, description: 'GeoJSON coordinates, [lon,lat] order' })),
  geoproperty: Type.Optional(Type.String({ description: 'location (the only one)' })),
  ...Representation,
  limit: Type.Integer({ minimum: 0, default: DEFAULT_LIMIT, description: `Page size, at most ${MAX_LIMIT} (more is a TooManyResults error)` }),
  offset: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
  count: Type.Optional(Type.Boolean({ description: 'Give the number of matching entities in the NGSILD-Results-Count header' })),
})
export type EntitiesQuery = Static<typeof EntitiesQuery>

export const EntityParams = Type.Object({ entityId: Type.String({ maxLength: 300, description: 'urn:ngsi-ld:WasteContainer:<20 hex digits> (opaque, stable; never the bin id or UPRN)' }) })
export const EntityQuery = Type.Object({ type: Csv('The entity\'s type, if the client wants it checked'), ...Representation })
export type EntityQuery = Static<typeof EntityQuery>

export const WasteContainerEntity = Type.Object({
  id: Type.String(),
  type: Type.Literal('WasteContainer'),
}, {
  $id: 'WasteContainer',
  additionalProperties: true,
  description: 'A FIWARE WasteContainer (Smart Data Models 0.3.0), normalized or simplified; see api/ngsi/waste-container.ts for each attribute',
})

export const ProblemDetails = Type.Object({
  type: Type.String({ description: 'https://uri.etsi.org/ngsi-ld/errors/<ErrorType>, or about:blank' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
}, { $id: 'NgsiProblemDetails' })

export const NgsiErrors = {
  400: Type.Ref('NgsiProblemDetails'),
  401: Type.Ref('NgsiProblemDetails'),
  403: Type.Ref('NgsiProblemDetails'),
  404: Type.Ref('NgsiProblemDetails'),
  406: Type.Ref('NgsiProblemDetails'),
  429: Type.Ref('NgsiProblemDetails'),
}
