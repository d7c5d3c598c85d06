// Alert rules for bins, declared once: the map API applies them to every bin's last reading, and
// the dashboard applies the same functions to live readings and re-checks staleness as time passes.
// No imports: the dashboard bundles this file as it is.

export const ALERT_KINDS = ['fire', 'overflow', 'offline', 'low_battery'] as const
export type AlertKind = (typeof ALERT_KINDS)[number]

export const ALERT_THRESHOLDS = {
  /** A bin reporting `burning`, or hotter than this, is on fire. */
  fireTempC: 60,
  /** Fill at or above this is overflowing. */
  overflowPct: 90,
  /** A sensor silent for longer than this is offline, whatever its MQTT status says. */
  offlineAfterMs: 3 * 3_600_000,
  /** Below this a sensor's battery needs replacing soon (typical Li-SOCl2 cut-off is ~3.0 V). */
  lowBatteryV: 3.3,
} as const

export interface BinSensorState {
  /** True when a (non-revoked) sensor is fitted to the bin; bins without one raise no alerts. */
  hasSensor: boolean
  online: boolean | null
  fillPct: number | null
  tempC: number | null
  batteryV: number | null
  status: string | null
  /** Device time of the last reading, epoch milliseconds. */
  readingAt: number | null
}

/** The alerts a bin raises now, most urgent first. */
export function binAlerts(s: BinSensorState, now: number): AlertKind[] {
  if (!s.hasSensor) return []
  const out: AlertKind[] = []
  if (s.status === 'burning' || (s.tempC !== null && s.tempC > ALERT_THRESHOLDS.fireTempC)) out.push('fire')
  if (s.fillPct !== null && s.fillPct >= ALERT_THRESHOLDS.overflowPct) out.push('overflow')
  // A sensor that never reported is offline unless it is connected right now (just fitted).
  const silent = s.readingAt === null ? s.online !== true : now - s.readingAt > ALERT_THRESHOLDS.offlineAfterMs
  if (s.online === false || silent) out.push('offline')
  if (s.batteryV !== null && s.batteryV < ALERT_THRESHOLDS.lowBatteryV) out.push('low_battery')
  return out
}
