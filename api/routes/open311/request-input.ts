// Reading a POST Service Request (GeoReport v2): required service_code and a location, the service's
// attributes as attribute[code]=value, optional description, media_url and reporter details.
// An empty value counts as no value (spec, "Optional Arguments"). Pure: no database here.
import { isUprn } from '../../../core/contract/domain.ts'
import type { ReportContact } from '../../../storage/reports.ts'
import { badRequest, notFound } from './errors.ts'
import { serviceByCode, type Open311ServiceInfo } from './services.ts'
import { londonDate, parseW3DateTime } from './time.ts'

export const MAX_DESCRIPTION_INPUT = 4000 // spec: "free form text limited to 4,000 characters"
const MAX_NOTE = 200

export type ReportLocation = { uprn: number } | { lat: number; lon: number }

export interface ReportInput {
  service: Open311ServiceInfo
  location: ReportLocation
  collectionDate: string | null
  description: string | null
  binLocationNote: string | null
  mediaUrl: string | null
  contact: Partial<ReportContact>
  /** When the resident made contact (attribute[contacted_at]); null: now. Bounded by the route (contactTimeOf). */
  contactedAt: Date | null
}

type Body = Record<string, unknown>

/** A field's value: trimmed text, or undefined when absent or empty. */
function value(body: Body, name: string): string | undefined {
  const v = body[name]
  if (v === undefined || v === null) return undefined
  if (Array.isArray(v)) throw badRequest(`${name} was given more than once.`)
  if (typeof v === 'object') throw badRequest(`${name} must be a single value.`)
  const s = String(v).trim()
  return s === '' ? undefined : s
}

/** attribute[code], sent form-encoded as the spec says, or in a JSON body as attribute: { code }. */
function attribute(body: Body, code: string): string | undefined {
  const flat = value(body, `attribute[${code}]`)
  if (flat !== undefined) return flat
  const nested = body.attribute
  return nested && typeof nested === 'object' && !Array.isArray(nested) ? value(nested as Body, code) : undefined
}

function limited(body: Body, name: string, max: number): string | undefined {
  const v = value(body, name)
  if (v !== undefined && v.length > max) throw badRequest(`${name} is limited to ${max.toLocaleString('en-GB')} characters.`)
  return v
}

function uprnOf(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = /^\d{1,12}$/.test(v) ? Number(v) : NaN
  if (!isUprn(n)) throw badRequest(`${name} must be a UPRN: a whole number of 1 to 12 digits, not ${JSON.stringify(v.slice(0, 40))}.`)
  return n
}

function coordinate(name: string, v: string, limit: number): number {
  const n = /^[+-]?\d+(\.\d+)?$/.test(v) ? Number(v) : NaN
  if (!(Math.abs(n) <= limit)) throw badRequest(`${name} must be a WGS84 coordinate between -${limit} and ${limit}.`)
  return n
}

function locationOf(body: Body): ReportLocation {
  const fromAddress = uprnOf('address_id', value(body, 'address_id'))
  const fromAttribute = uprnOf('attribute[uprn]', attribute(body, 'uprn'))
  if (fromAddress !== undefined && fromAttribute !== undefined && fromAddress !== fromAttribute) {
    throw badRequest(`address_id (${fromAddress}) and attribute[uprn] (${fromAttribute}) name different properties.`)
  }
  const uprn = fromAddress ?? fromAttribute
  if (uprn !== undefined) return { uprn }
  const lat = value(body, 'lat')
  const lon = value(body, 'long')
  if (lat !== undefined && lon !== undefined) return { lat: coordinate('lat', lat, 90), lon: coordinate('long', lon, 180) }
  if (lat !== undefined || lon !== undefined) throw badRequest('lat and long must be sent together.')
  if (value(body, 'address_string') !== undefined) {
    throw badRequest('address_string alone cannot be matched to a property here: send address_id (the UPRN), attribute[uprn], or lat and long.')
  }
  throw badRequest('A location is required: address_id (the UPRN), attribute[uprn], or lat and long.')
}

function collectionDateOf(v: string | undefined): string | null {
  if (v === undefined) return null
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const d = new Date(`${v}T12:00:00Z`)
    if (!Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v) return v
  } else {
    const at = parseW3DateTime(v)
    if (at) return londonDate(at)
  }
  throw badRequest('attribute[collection_date] must be a date, YYYY-MM-DD (e.g. 2024-05-14).')
}

function contactedAtOf(v: string | undefined): Date | null {
  if (v === undefined) return null
  const at = parseW3DateTime(v)
  if (!at) throw badRequest('attribute[contacted_at] must be a date and time with its time zone, e.g. 2024-05-14T17:05:00+01:00.')
  return at
}

/** A CRM's clock may run a little ahead of ours: a contact time this far in the future is taken as now. */
export const CONTACT_CLOCK_SKEW_MS = 60_000

/**
 * The instant a report is judged at: the contact time the CRM gave, bounded — not in the future (beyond
 * a minute's clock skew, taken as now) and not before the start of the collection's day (UK time) —
 * or now when none was given.
 */
export function contactTimeOf(contactedAt: Date | null, now: Date, collectionDayStart: Date | null): Date {
  if (!contactedAt) return now
  if (contactedAt.getTime() > now.getTime() + CONTACT_CLOCK_SKEW_MS) throw badRequest(`attribute[contacted_at] (${contactedAt.toISOString()}) is in the future.`)
  if (collectionDayStart && contactedAt.getTime() < collectionDayStart.getTime()) {
    throw badRequest(`attribute[contacted_at] (${contactedAt.toISOString()}) is before the collection it reports (${collectionDayStart.toISOString()}).`)
  }
  return contactedAt.getTime() > now.getTime() ? now : contactedAt
}

function binLocationNoteOf(v: string | undefined): string | null {
  if (v !== undefined && v.length > MAX_NOTE) throw badRequest(`attribute[bin_location_note] is limited to ${MAX_NOTE} characters.`)
  return v ?? null
}

function mediaUrlOf(v: string | undefined): string | null {
  if (v === undefined) return null
  let url: URL | null = null
  try {
    url = new URL(v)
  } catch {
    url = null
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || v.length > 2048) throw badRequest('media_url must be an http or https URL of at most 2,048 characters.')
  return v
}

function contactOf(body: Body): Partial<ReportContact> {
  const email = limited(body, 'email', 254)
  if (email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(email)) throw badRequest('email is not an email address.')
  const phone = limited(body, 'phone', 40)
  if (phone !== undefined && !/^[0-9+()\-.\s]{3,}$/.test(phone)) throw badRequest('phone may hold only digits, spaces and + ( ) - .')
  return {
    firstName: limited(body, 'first_name', 100) ?? null,
    lastName: limited(body, 'last_name', 100) ?? null,
    email: email ?? null,
    phone: phone ?? null,
    accountId: limited(body, 'account_id', 100) ?? null,
    deviceId: limited(body, 'device_id', 100) ?? null,
  }
}

/** The report a POST describes, or an Open311Error (404 unknown service_code, 400 anything else). */
export function readReportInput(body: Body): ReportInput {
  const code = value(body, 'service_code')
  if (code === undefined) throw badRequest('service_code was not provided. GET services.json lists the codes.')
  const service = serviceByCode(code)
  if (!service) throw notFound(`service_code ${code.slice(0, 64)} was not found. GET services.json lists the codes.`)
  return {
    service,
    location: locationOf(body),
    collectionDate: collectionDateOf(attribute(body, 'collection_date')),
    description: limited(body, 'description', MAX_DESCRIPTION_INPUT) ?? null,
    binLocationNote: binLocationNoteOf(attribute(body, 'bin_location_note')),
    mediaUrl: mediaUrlOf(value(body, 'media_url')),
    contact: contactOf(body),
    contactedAt: contactedAtOf(attribute(body, 'contacted_at')),
  }
}

/** An Idempotency-Key header: printable ASCII, at most 200 characters. */
export function idempotencyKeyOf(header: string | string[] | undefined): string | null {
  if (header === undefined) return null
  const key = (Array.isArray(header) ? header[0] ?? '' : header).trim()
  if (key === '') return null
  if (key.length > 200 || !/^[\x21-\x7e]+$/.test(key)) throw badRequest('Idempotency-Key must be 1 to 200 printable ASCII characters without spaces.')
  return key
}
