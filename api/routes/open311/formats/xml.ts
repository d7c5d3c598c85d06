// XML as GeoReport v2 writes it: schemaless and without a namespace, UTF-8, preceded by the XML
// declaration with encoding="utf-8" (spec, "Encoding" and "XML Support"), with a wrapper element for
// every list: services/service, attributes/attribute, values/value, service_requests/request,
// service_request_updates/request_update, errors/error; and Service Discovery's endpoints/endpoint,
// formats/format.
import { XMLBuilder } from 'fast-xml-parser'

/** Element name of the items of each list, by the list's element name. */
const ITEM_OF: Record<string, string> = {
  services: 'service',
  attributes: 'attribute',
  values: 'value',
  service_requests: 'request',
  service_request_updates: 'request_update',
  errors: 'error',
  endpoints: 'endpoint',
  formats: 'format',
}

const builder = new XMLBuilder({ ignoreAttributes: true, format: true, suppressEmptyNode: false, processEntities: true })

// Characters XML 1.0 cannot carry, even escaped.
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g

export class XmlShapeError extends Error {
  override name = 'KERBSIDE_ERR_XML_SHAPE'
}

function shape(name: string, value: unknown): unknown {
  if (Array.isArray(value)) {
    const item = ITEM_OF[name]
    if (!item) throw new XmlShapeError(`no element name is defined for the items of <${name}>`)
    return { [item]: value.map((v) => shape(item, v)) }
  }
  // A field without a value is an empty element, as in the spec's examples (<account_id/>).
  if (value === null) return ''
  if (typeof value === 'string') return value.replace(NOT_XML, '')
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).map(([k, v]) => [k, shape(k, v)]))
  }
  return value
}

/** The document `value` as XML under the root element `root` (a list becomes root/item…). */
export function toXml(root: string, value: unknown): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n${builder.build({ [root]: shape(root, value) }) as string}`
}
