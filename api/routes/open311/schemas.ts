// Open311 GeoReport v2 shapes, declared once: fastify validates requests and serialises JSON with
// them, and they document /open311/v2 in the OpenAPI file. Field names are the spec's own
// (http://wiki.open311.org/GeoReport_v2); FixMyStreet's update feed follows mySociety's
// "Open311 FMS Complete Spec". JSON is the spec's programmatic mapping of its XML (Spark convention).
import { Type, type TSchema } from '@sinclair/typebox'
import { FORMATS } from './formats/respond.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const W3DateTime = Type.String({ format: 'date-time', description: 'W3C date-time with time zone, e.g. 2010-01-01T00:00:00Z' })

export const FormatParam = Type.Union(FORMATS.map((f) => Type.Literal(f)), { description: 'Response format: json or xml' })

// "Optional" arguments: an empty value is the same as no value (spec, Definitions). Repeated query
// parameters are accepted as well as comma-delimited lists.
const Opt = (description: string) => Type.Optional(Type.String({ description }))
const CommaList = (description: string) => Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description }))

export const KeyQuery = {
  api_key: Opt('API key (role crm, contract_manager or viewer); or send Authorization: Bearer <key> or X-Api-Key'),
  jurisdiction_id: Opt('Optional: this endpoint serves one jurisdiction'),
}

export const Open311Service = Type.Object({
  service_code: Type.String({ description: 'missed_<stream>, e.g. missed_residual' }),
  service_name: Type.String(),
  description: Type.String(),
  metadata: Type.Boolean({ description: 'true: GET services/{service_code} lists the attributes' }),
  type: Type.Union([Type.Literal('realtime'), Type.Literal('batch'), Type.Literal('blackbox')]),
  keywords: Type.String({ description: 'Comma-separated' }),
  group: Type.String(),
}, { $id: 'Open311Service', description: 'GeoReport v2 service (XML: services/service)' })

export const Open311Attribute = Type.Object({
  variable: Type.Boolean(),
  code: Type.String(),
  datatype: Type.Union(['string', 'number', 'datetime', 'text', 'singlevaluelist', 'multivaluelist'].map((d) => Type.Literal(d))),
  required: Type.Boolean(),
  datatype_description: Nullable(Type.String()),
  order: Type.Integer({ minimum: 1 }),
  description: Type.String(),
  values: Type.Optional(Type.Array(Type.Object({ key: Type.String(), name: Type.String() }))),
}, { $id: 'Open311Attribute', description: 'GeoReport v2 service attribute (XML: attributes/attribute, values/value)' })

export const Open311ServiceDefinition = Type.Object({
  service_code: Type.String(),
  attributes: Type.Array(Type.Ref('Open311Attribute')),
}, { $id: 'Open311ServiceDefinition', description: 'GeoReport v2 service definition (XML root: service_definition)' })

export const Open311Created = Type.Object({
  service_request_id: Type.String(),
  service_notice: Nullable(Type.String()),
  account_id: Nullable(Type.String()),
}, { $id: 'Open311Created', description: 'Answer to POST requests (XML: service_requests/request)' })

export const Open311Request = Type.Object({
  service_request_id: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  status_notes: Nullable(Type.String()),
  service_name: Type.String(),
  service_code: Type.String(),
  description: Type.Optional(Nullable(Type.String({ description: 'As minimised when stored: contact details removed, at most 1,000 characters; roles crm and admin only' }))),
  agency_responsible: Nullable(Type.String()),
  service_notice: Nullable(Type.String()),
  requested_datetime: W3DateTime,
  updated_datetime: W3DateTime,
  expected_datetime: Nullable(W3DateTime),
  address: Type.Optional(Type.String({ description: 'Roles crm, contract_manager and admin only' })),
  address_id: Type.Optional(Type.String({ description: 'UPRN; roles crm, contract_manager and admin only' })),
  zipcode: Nullable(Type.String({ description: 'Postcode' })),
  lat: Type.Optional(Nullable(Type.Number())),
  long: Type.Optional(Nullable(Type.Number())),
  media_url: Type.Optional(Nullable(Type.String({ description: 'Roles crm and admin only' }))),
  // FixMyStreet's additional attributes (mySociety's additions to GeoReport v2), for keys whose open311Extended setting is on.
  agency_sent_datetime: Type.Optional(Nullable(W3DateTime)),
  title: Type.Optional(Type.String({ description: 'FixMyStreet addition (keys with open311Extended): the service\'s name' })),
  interface_used: Type.Optional(Type.String({ description: 'FixMyStreet addition (keys with open311Extended): the name of the client system that filed it' })),
  comment_count: Type.Optional(Type.Integer({ minimum: 0, description: 'FixMyStreet addition (keys with open311Extended): updates since it was filed' })),
}, { $id: 'Open311Request', description: 'GeoReport v2 service request (XML: service_requests/request). Never carries the reporter\'s contact details; the free text, photo link and the property\'s address only for roles that may see them (docs/data-protection.md).' })

export const Open311Update = Type.Object({
  update_id: Type.String(),
  service_request_id: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  updated_datetime: W3DateTime,
  description: Nullable(Type.String({ description: 'The status notes given with the change' })),
  media_url: Nullable(Type.String()),
}, { $id: 'Open311Update', description: 'FixMyStreet extension: service request update (XML: service_request_updates/request_update)' })

export const Open311UpdateCreated = Type.Object({
  update_id: Type.String({ description: 'Kerbside\'s id of the update; a repeat of the same update_id_ext answers the same one' }),
}, { $id: 'Open311UpdateCreated', description: 'FixMyStreet extension: answer to POST servicerequestupdates (XML: service_request_updates/request_update)' })

export const Open311Error = Type.Object({
  code: Type.Integer({ description: 'Matches the HTTP status' }),
  description: Type.String(),
}, { $id: 'Open311Error', description: 'GeoReport v2 error (XML: errors/error)' })

export const Open311Discovery = Type.Object({
  changeset: Type.String(),
  contact: Type.String(),
  key_service: Type.String(),
  endpoints: Type.Array(Type.Object({
    specification: Type.String(),
    url: Type.String(),
    changeset: Type.String(),
    type: Type.Union([Type.Literal('production'), Type.Literal('test')]),
    formats: Type.Array(Type.String({ description: 'MIME type' })),
  })),
}, { $id: 'Open311Discovery', description: 'Service Discovery (XML: discovery, endpoints/endpoint, formats/format)' })

export const OPEN311_SCHEMAS = [Open311Discovery, Open311Service, Open311Attribute, Open311ServiceDefinition, Open311Created, Open311Request, Open311Update, Open311UpdateCreated, Open311Error]

/** A response in both formats: JSON validated by `json`, XML as the same document (element names per the spec). */
export const both = (json: TSchema, description: string) => ({
  description,
  content: {
    'application/json': { schema: json },
    'text/xml': { schema: Type.String({ description: 'The same document as XML' }) },
  },
})

const errors = both(Type.Array(Type.Ref('Open311Error')), 'Errors, as [{ code, description }] or <errors><error>…')
export const Open311Errors = { 400: errors, 403: errors, 404: errors, 429: errors }

export const RequestsQuery = Type.Object({
  ...KeyQuery,
  service_request_id: CommaList('Comma-delimited ids; overrides every other filter'),
  service_code: CommaList('Comma-delimited service codes'),
  start_date: Opt('Earliest requested_datetime, W3C format; with end_date at most 90 days apart'),
  end_date: Opt('Latest requested_datetime, W3C format'),
  status: CommaList('open, closed, or both comma-delimited'),
})

export const UpdatesQuery = Type.Object({
  ...KeyQuery,
  start_date: Opt('Earliest update to include, W3C format'),
  end_date: Opt('Latest update to include, W3C format'),
})

// POST requests: form-encoded as the spec says (attribute[code]=value), or JSON with the same field
// names (attribute may also be an object). Values are checked by hand so that errors speak the
// spec's language and an empty value counts as none.
export const CreateRequestBody = Type.Object({
  api_key: Opt('API key with role crm; or send Authorization: Bearer <key> or X-Api-Key'),
  jurisdiction_id: Opt('Optional: this endpoint serves one jurisdiction'),
  service_code: Type.Optional(Type.String({ description: 'Required: missed_<stream>' })),
  address_id: Opt('UPRN of the property (or attribute[uprn])'),
  lat: Opt('WGS84 latitude, with long: the nearest household within 50 m is used'),
  long: Opt('WGS84 longitude, with lat'),
  address_string: Opt('Not resolved by this endpoint: send address_id or lat/long'),
  'attribute[uprn]': Opt('UPRN of the property'),
  'attribute[collection_date]': Opt('Date of the missed collection, YYYY-MM-DD'),
  'attribute[bin_location_note]': Opt('Where the bin was left out (200 characters at most)'),
  'attribute[contacted_at]': Opt('When the resident made contact (W3C date-time with time zone); the window is judged at it. Default: when received'),
  attribute: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), { description: 'JSON bodies: the attributes as an object' })),
  description: Opt('What happened, up to 4,000 characters; stored minimised (contact details removed, 1,000 characters at most)'),
  first_name: Opt('Kept apart from the report; never returned'),
  last_name: Opt('Kept apart from the report; never returned'),
  email: Opt('Kept apart from the report; never returned'),
  phone: Opt('Kept apart from the report; never returned'),
  device_id: Opt('Kept apart from the report; never returned'),
  account_id: Opt('The CRM\'s id of the reporter; echoed in the answer, kept apart from the report'),
  media_url: Opt('http(s) URL of a photo'),
}, { additionalProperties: true })

// POST servicerequestupdates as mySociety's Open311.pm sends it (form-encoded; JSON accepted too).
// The sender's personal fields are accepted, as its client sends them, and not kept.
// Open311.pm's statuses, extended_statuses included (_populate_service_request_update_params): REOPEN is recorded, and does not reopen a closed request.
export const POSTED_STATUSES = ['OPEN', 'INVESTIGATING', 'IN_PROGRESS', 'ACTION_SCHEDULED', 'FIXED', 'CLOSED', 'DUPLICATE', 'NOT_COUNCILS_RESPONSIBILITY', 'NO_FURTHER_ACTION', 'INTERNAL_REFERRAL', 'UNABLE_TO_FIX', 'FOR_TRIAGE', 'CANCELLED', 'REOPEN'] as const
export const PostUpdateBody = Type.Object({
  api_key: Opt('API key with role crm; or send Authorization: Bearer <key> or X-Api-Key'),
  jurisdiction_id: Opt('Optional: this endpoint serves one jurisdiction'),
  service_request_id: Type.Optional(Type.String({ description: 'Required: the request the update is about' })),
  service_request_id_ext: Opt('The sender\'s own id of the request (not kept)'),
  update_id_ext: Opt('Required (or update_id): the sender\'s id of this update; a repeat answers the first update_id'),
  update_id: Opt('Accepted for update_id_ext'),
  status: Type.Optional(Type.String({ description: `Required, any case: ${POSTED_STATUSES.join(', ')}. FIXED, CLOSED, DUPLICATE, NOT_COUNCILS_RESPONSIBILITY, NO_FURTHER_ACTION, INTERNAL_REFERRAL, UNABLE_TO_FIX and CANCELLED close the request; REOPEN is recorded and does not reopen it` })),
  updated_datetime: Opt('When the update was made, W3C date-time; default: when received'),
  description: Opt('The comment: not kept, the words stay with the sender'),
  media_url: Opt('Not kept'),
  email: Opt('Not kept'),
  first_name: Opt('Not kept'),
  last_name: Opt('Not kept'),
  title: Opt('Not kept'),
  account_id: Opt('Not kept'),
  public_anonymity_required: Opt('Not kept'),
  email_alerts_requested: Opt('Not kept'),
}, { additionalProperties: true })
