// NGSI-LD entity representations (ETSI GS CIM 009): an entity is built once as a list of typed
// attributes, then rendered either normalized (every attribute an object with its `type`) or
// simplified (`options=keyValues`: every attribute its bare value), with the @context in the body
// (application/ld+json) or in a Link header (application/json).

/** The Smart Data Models context that defines WasteContainer's terms. */
export const DATA_MODEL_CONTEXT = 'https://raw.githubusercontent.com/smart-data-models/dataModel.WasteManagement/master/context.jsonld'
/** The NGSI-LD core context; implied when absent, given last when the body carries @context. */
export const CORE_CONTEXT = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld'
/** The Link header that carries the context of an application/json response. */
export const CONTEXT_LINK = `<${DATA_MODEL_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`

export type GeoJsonPoint = { type: 'Point'; coordinates: [number, number] }

export type NgsiAttribute =
  | { type: 'Property'; value: string | number | boolean | string[] | Record<string, string>; observedAt?: Date; unitCode?: string }
  /** A Property whose value is a moment: `{"@type": "DateTime", "@value": …}` when normalized. */
  | { type: 'DateTimeProperty'; value: Date; observedAt?: Date }
  | { type: 'GeoProperty'; value: GeoJsonPoint }
  /**
   * A Relationship to one entity. NGSI-LD relationships point at a single object; the data model
   * types `refDevice` as an array, so the simplified form gives the object as a one-item list.
   */
  | { type: 'Relationship'; object: string; simplifiedAsList?: boolean }

export interface NgsiEntity {
  id: string
  type: string
  attributes: Record<string, NgsiAttribute>
}

export type Format = 'normalized' | 'keyValues'
export type MediaType = 'application/json' | 'application/ld+json'

const iso = (d: Date) => d.toISOString()

function normalizedAttribute(a: NgsiAttribute): Record<string, unknown> {
  switch (a.type) {
    case 'Property':
      return { type: 'Property', value: a.value, ...(a.unitCode ? { unitCode: a.unitCode } : {}), ...(a.observedAt ? { observedAt: iso(a.observedAt) } : {}) }
    case 'DateTimeProperty':
      return { type: 'Property', value: { '@type': 'DateTime', '@value': iso(a.value) }, ...(a.observedAt ? { observedAt: iso(a.observedAt) } : {}) }
    case 'GeoProperty':
      return { type: 'GeoProperty', value: a.value }
    case 'Relationship':
      return { type: 'Relationship', object: a.object }
  }
}

function simplifiedAttribute(a: NgsiAttribute): unknown {
  switch (a.type) {
    case 'Property':
    case 'GeoProperty':
      return a.value
    case 'DateTimeProperty':
      return iso(a.value)
    case 'Relationship':
      return a.simplifiedAsList ? [a.object] : a.object
  }
}

/** Keep only the named attributes (NGSI-LD `attrs`); id and type always stay. */
export function project(entity: NgsiEntity, attrs: readonly string[] | undefined): NgsiEntity {
  if (!attrs) return entity
  return { ...entity, attributes: Object.fromEntries(Object.entries(entity.attributes).filter(([name]) => attrs.includes(name))) }
}

/** The entity as a JSON body in the asked format, with @context when the body is JSON-LD. */
export function render(entity: NgsiEntity, format: Format, media: MediaType): Record<string, unknown> {
  const body: Record<string, unknown> = { id: entity.id, type: entity.type }
  for (const [name, a] of Object.entries(entity.attributes)) body[name] = format === 'keyValues' ? simplifiedAttribute(a) : normalizedAttribute(a)
  if (media === 'application/ld+json') body['@context'] = [DATA_MODEL_CONTEXT, CORE_CONTEXT]
  return body
}
