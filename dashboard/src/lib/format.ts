// Small formatting helpers for people in the UK.

const timeFmt = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' })
const dateTimeFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' })

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
