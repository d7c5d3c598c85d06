// Small formatting helpers for people in the UK.

// Times are the council's (London), whatever the browser's own time zone: a lift at 07:42 is 07:42 on every screen.
const timeFmt = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone: 'Europe/London' })
const dateTimeFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: 'Europe/London' })

export const clockTime = (ms: number): string => timeFmt.format(ms)
export const dateTime = (ms: number): string => dateTimeFmt.format(ms)

/** "just now", "5 min ago", "3 h ago", "2 days ago". */
export function ago(ms: number | null, now = Date.now()): string {
  if (ms === null) return 'never'
  const s = Math.max(0, Math.round((now - ms) / 1000))
  if (s < 45) return 'just now'
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86_400)} days ago`
}

const OUTCOME_LABELS: Record<string, string> = {
  collected: 'Collected',
  not_presented: 'Not presented',
  contaminated: 'Contaminated',
  no_access: 'No access',
  excess_waste: 'Excess waste',
  overweight: 'Overweight',
  wrong_bin: 'Wrong bin',
}
export const outcomeLabel = (outcome: string): string => OUTCOME_LABELS[outcome] ?? outcome

const ALERT_LABELS: Record<string, string> = { fire: 'Fire', overflow: 'Overflowing', offline: 'Sensor offline', low_battery: 'Low battery' }
export const alertLabel = (kind: string): string => ALERT_LABELS[kind] ?? kind

export function alertDetail(kind: string, value: number | null): string {
  switch (kind) {
    case 'fire': return value === null ? 'reported burning' : `${value} °C`
    case 'overflow': return `${value ?? '?'} % full`
    case 'offline': return value === null ? 'never reported' : `silent ${value} h`
    case 'low_battery': return `${value ?? '?'} V`
    default: return ''
  }
}

const longDayFmt = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })
const shortDayFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' })
const monthFmt = new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' })
const londonDateTimeFmt = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: 'Europe/London' })
const londonTimeFmt = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/London' })
const moneyFmt = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP', maximumFractionDigits: 0 })
const moneyPenceFmt = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP' })

/** A council day (YYYY-MM-DD): "Mon 23 Nov 2026". */
export const longDay = (day: string): string => longDayFmt.format(Date.parse(`${day}T00:00:00Z`))
export const shortDay = (day: string): string => shortDayFmt.format(Date.parse(`${day}T00:00:00Z`))
/** YYYY-MM: "November 2026". */
export const monthName = (month: string): string => monthFmt.format(Date.parse(`${month}-01T00:00:00Z`))
/** An instant as London sees it: "Mon 23 Nov, 14:05". */
export const londonDateTime = (iso: string | number): string => londonDateTimeFmt.format(typeof iso === 'number' ? iso : Date.parse(iso))
export const londonTime = (iso: string): string => londonTimeFmt.format(Date.parse(iso))

export const money = (pounds: number): string => moneyFmt.format(pounds)
export const moneyPence = (pounds: number): string => moneyPenceFmt.format(pounds)
export const count = (n: number): string => n.toLocaleString('en-GB')
/** A ratio the API may leave null (no data): an em dash rather than 0 or 100. */
export const pct = (v: number | null, digits = 2): string => (v === null ? '—' : `${v.toFixed(digits)} %`)
export const per100k = (v: number | null): string => (v === null ? '—' : v.toLocaleString('en-GB', { maximumFractionDigits: 1 }))
export const score = (v: number | null): string => (v === null ? '—' : v.toFixed(1))
export const points = (v: number): string => v.toLocaleString('en-GB', { maximumFractionDigits: 2 })

const STREAM_LABELS: Record<string, string> = { residual: 'Residual', recycling: 'Recycling', garden: 'Garden', food: 'Food', glass: 'Glass' }
export const streamLabel = (s: string): string => STREAM_LABELS[s] ?? s

const COLLECTION_OUTCOME_LABELS: Record<string, string> = {
  pending: 'Pending', collected: 'Collected', collected_late: 'Collected late', crew_exception: 'Crew exception',
  missed: 'Missed', rectified: 'Rectified in time', rectified_late: 'Rectified late',
}
export const collectionOutcomeLabel = (o: string | null): string => (o === null ? 'Not decided yet' : COLLECTION_OUTCOME_LABELS[o] ?? o)
/** Outcomes that count against the contractor, for colour and emphasis (never colour alone). */
export const isFailure = (o: string | null): boolean => o === 'missed' || o === 'rectified_late' || o === 'collected_late' || o === 'rectified'

const EXCEPTION_LABELS: Record<string, string> = { ...OUTCOME_LABELS, other: 'Other' }
export const exceptionLabel = (code: string): string => EXCEPTION_LABELS[code] ?? code

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']
export const weekdayName = (iso: number | string): string => WEEKDAYS[Number(iso) - 1] ?? String(iso)

const ROLE_LABELS: Record<string, string> = { admin: 'Administrator', contract_manager: 'Contract manager', crm: 'Contact centre', viewer: 'Viewer', provisioning: 'Provisioning' }
export const roleLabel = (role: string): string => ROLE_LABELS[role] ?? role

/**
 * A council day (YYYY-MM-DD) as people in the UK write it: "07/12/2026". The dashboard's date fields
 * are text in this form rather than <input type="date">, whose day/month order follows the browser's
 * own language (mm/dd/yyyy in a browser set to US English), whatever the page says.
 */
export function ukDay(day: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day)
  return m ? `${m[3]}/${m[2]}/${m[1]}` : ''
}

/** "7/12/2026", "07-12-2026", "7.12.2026" or "2026-12-07" to YYYY-MM-DD; null when it is not a real day. */
export function parseUkDay(text: string): string | null {
  const t = text.trim()
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(t)
  const uk = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(t)
  const [y, m, d] = iso ? [iso[1], iso[2], iso[3]] : uk ? [uk[3], uk[2], uk[1]] : []
  if (y === undefined || m === undefined || d === undefined) return null
  const day = `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`
  const ms = Date.parse(`${day}T00:00:00Z`)
  return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(day) ? day : null
}

const instantFmt = new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone: 'Europe/London' })
/** An instant in London, to the second: "07/12/2026, 14:05:09". */
export const londonInstant = (iso: string | number): string => instantFmt.format(typeof iso === 'number' ? iso : Date.parse(iso))

/** A size in bytes: "142 bytes", "4.0 KB". */
export const bytes = (n: number): string => (n < 1024 ? `${count(n)} bytes` : `${(n / 1024).toLocaleString('en-GB', { maximumFractionDigits: 1, minimumFractionDigits: 1 })} KB`)
