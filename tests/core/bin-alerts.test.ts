import { expect, test } from 'vitest'
import { ALERT_THRESHOLDS, binAlerts, type BinSensorState } from '../../core/bin-alerts.ts'

const now = Date.parse('2026-11-20T12:00:00Z')
const healthy: BinSensorState = { hasSensor: true, online: true, fillPct: 40, tempC: 12, batteryV: 3.6, status: 'ok', readingAt: now - 600_000 }

test('a healthy bin raises nothing; a bin without a sensor never raises anything', () => {
  expect(binAlerts(healthy, now)).toEqual([])
  expect(binAlerts({ ...healthy, hasSensor: false, status: 'burning', online: false }, now)).toEqual([])
})

test('fire: status burning, or hotter than the threshold', () => {
  expect(binAlerts({ ...healthy, status: 'burning' }, now)).toEqual(['fire'])
  expect(binAlerts({ ...healthy, tempC: ALERT_THRESHOLDS.fireTempC + 0.1 }, now)).toEqual(['fire'])
  expect(binAlerts({ ...healthy, tempC: ALERT_THRESHOLDS.fireTempC }, now)).toEqual([])
})

test('overflow at and above the threshold', () => {
  expect(binAlerts({ ...healthy, fillPct: ALERT_THRESHOLDS.overflowPct }, now)).toEqual(['overflow'])
  expect(binAlerts({ ...healthy, fillPct: ALERT_THRESHOLDS.overflowPct - 0.1 }, now)).toEqual([])
})

test('offline: disconnected, or silent for longer than the threshold, or never reported and not connected', () => {
  expect(binAlerts({ ...healthy, online: false }, now)).toEqual(['offline'])
  expect(binAlerts({ ...healthy, readingAt: now - ALERT_THRESHOLDS.offlineAfterMs - 1 }, now)).toEqual(['offline'])
  expect(binAlerts({ ...healthy, readingAt: now - ALERT_THRESHOLDS.offlineAfterMs }, now)).toEqual([])
  expect(binAlerts({ ...healthy, readingAt: null, online: null }, now)).toEqual(['offline'])
  expect(binAlerts({ ...healthy, readingAt: null, online: true }, now)).toEqual([])
})

test('low battery below the threshold; several alerts come most urgent first', () => {
  expect(binAlerts({ ...healthy, batteryV: 3.29 }, now)).toEqual(['low_battery'])
  expect(binAlerts({ ...healthy, batteryV: 3.1, fillPct: 95, tempC: 75, online: false }, now)).toEqual(['fire', 'overflow', 'offline', 'low_battery'])
})
