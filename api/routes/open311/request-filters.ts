// The filters of GET Service Requests and of the update feed (GeoReport v2 "GET Service Requests";
// FixMyStreet "GET Service Request Updates"): comma-delimited lists, and a requested-time window
// that defaults to the most recent 90 days and may not span more than 90 days. Pure.
import { REPORT_STATUSES, type ReportFilters, type ReportStatus } from '../../../storage/reports.ts'
import { badRequest } from './errors.ts'
import { serviceByCode } from './services.ts'
import { parseW3DateTime } from './time.ts'

export const MAX_SPAN_DAYS = 90
/** "Default query limit is a span of 90 days or first 1000 requests returned, whichever is smallest." */
export const RESULT_LIMIT = 1000
const DAY_MS = 86_400_000

/** A comma-delimited (or repeated) parameter as its non-empty items; undefined when it has none. */
export function listOf(v: string | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined
  const items = (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '')
  return items.length > 0 ? items : undefined
}

function dateArg(name: string, v: string | undefined): Date | undefined {
  if (v === undefined || v.trim() === '') return undefined
  const d = parseW3DateTime(v.trim())
  if (!d) throw badRequest(`${name} must be a W3C date-time with a time zone, e.g. 2010-01-01T00:00:00Z.`)
  return d
}

/** [from, to] from start_date and end_date: the most recent 90 days unless given, at most 90 days long. */
export function dateWindow(start: string | undefined, end: string | undefined, now: Date = new Date()): { from: Date; to: Date } {
  const from = dateArg('start_date', start)
  const to = dateArg('end_date', end)
  const span = MAX_SPAN_DAYS * DAY_MS
  if (from && to) {
    if (to < from) throw badRequest('end_date must not be before start_date.')
    if (to.getTime() - from.getTime() > span) throw badRequest(`start_date and end_date may not span more than ${MAX_SPAN_DAYS} days.`)
    return { from, to }
  }
  if (from) return { from, to: new Date(from.getTime() + span) }
  if (to) return { from: new Date(to.getTime() - span), to }
  return { from: new Date(now.getTime() - span), to: now }
}

export interface RequestsQuery {
  service_request_id?: string | string[]
  service_code?: string | string[]
  start_date?: string
  end_date?: string
  status?: string | string[]
}

export function readRequestFilters(q: RequestsQuery, now: Date = new Date()): ReportFilters {
  const ids = listOf(q.service_request_id)
  if (ids) {
    const bad = ids.find((id) => !/^\d{1,15}$/.test(id))
    if (bad !== undefined) throw badRequest(`service_request_id ${JSON.stringify(bad.slice(0, 40))} is not one of ours: ids are whole numbers.`)
    // "This overrides all other arguments."
    return { ids: ids.map(Number), limit: RESULT_LIMIT }
  }
  const codes = listOf(q.service_code)
  const unknown = codes?.find((c) => !serviceByCode(c))
  if (unknown !== undefined) throw badRequest(`service_code ${unknown.slice(0, 64)} is not a service here. GET services.json lists the codes.`)
  const statuses = listOf(q.status)?.map((s) => s.toLowerCase())
  const badStatus = statuses?.find((s) => !REPORT_STATUSES.includes(s as ReportStatus))
  if (badStatus !== undefined) throw badRequest(`status must be open or closed (comma-delimited for both), not ${JSON.stringify(badStatus.slice(0, 40))}.`)
  const { from, to } = dateWindow(q.start_date, q.end_date, now)
  return { serviceCodes: codes, statuses: statuses as ReportStatus[] | undefined, from, to, limit: RESULT_LIMIT }
}
