// A stored report as a GeoReport v2 service request, its changes as FixMyStreet request updates,
// and the service_notice a reporter is given. Only the report's own fields: the reporter's personal
// data lives elsewhere (report_contacts) and never reaches these documents.
import type { ReportExtras } from '../../../storage/report-extras.ts'
import type { MissedReport, ReportAssessment, ReportUpdate } from '../../../storage/reports.ts'
import { serviceByCode } from './services.ts'
import { ukLongDate, w3 } from './time.ts'

export function toServiceRequest(r: MissedReport) {
  return {
    service_request_id: String(r.id),
    status: r.status,
    status_notes: r.statusNotes,
    service_name: serviceByCode(r.serviceCode)?.name ?? r.serviceCode,
    service_code: r.serviceCode,
    description: r.description,
    agency_responsible: r.agencyResponsible,
    service_notice: r.serviceNotice,
    requested_datetime: w3(r.requestedAt),
    // "For requests with status=closed, this will be the date the request was closed."
    updated_datetime: w3(r.closedAt ?? r.updatedAt),
    expected_datetime: r.expectedDatetime ? w3(r.expectedDatetime) : null,
    address: r.postcode ? `${r.address}, ${r.postcode}` : r.address,
    address_id: String(r.uprn),
    zipcode: r.postcode,
    lat: r.lat,
    long: r.lon,
    media_url: r.mediaUrl,
  }
}

/**
 * FixMyStreet's additional request attributes ("Open311 specification, with mySociety additions":
 * agency_sent_datetime, title, interface_used, comment_count), for keys whose setting asks for them.
 * requestor_name is one of them too, and is never sent: it is the reporter's personal data.
 */
export function fixMyStreetAttributes(r: MissedReport, extras: ReportExtras | undefined) {
  return {
    // Sent on to the contractor when the check confirmed the miss and asked for a return visit.
    agency_sent_datetime: r.validity === 'valid' && r.assessedAt ? w3(r.assessedAt) : null,
    title: serviceByCode(r.serviceCode)?.name ?? r.serviceCode,
    interface_used: extras?.filedBy ?? r.source,
    comment_count: extras?.updateCount ?? 0,
  }
}

export const toRequestUpdate = (u: ReportUpdate) => ({
  update_id: String(u.updateId),
  service_request_id: String(u.reportId),
  status: u.status,
  updated_datetime: w3(u.at),
  description: u.notes,
  media_url: null,
})

export const RECEIVED_NOTICE = 'Report received. We will check it against the crew\'s records for this collection and arrange a return visit if the bin was missed.'

/** The service_notice after the analysis's verdict: its own notes, or one written from the verdict. */
export function noticeFor(a: ReportAssessment): string {
  if (a.statusNotes) return a.statusNotes
  switch (a.validity) {
    case 'valid':
      return a.expectedDatetime
        ? `Missed collection confirmed. The crew will return to empty the bin by ${ukLongDate(a.expectedDatetime)}.`
        : 'Missed collection confirmed. A return visit will be arranged.'
    case 'invalid':
      return `This report does not match the collection records: ${a.reason ?? 'see the status notes'}.`
    case 'pending':
      return RECEIVED_NOTICE
  }
}
