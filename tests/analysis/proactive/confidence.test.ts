// The confidence of a suspected miss and what the bin's sensor says, worked by hand.
import { expect, test } from 'vitest'
import {
  ASSISTED_CONFIDENCE, confidenceOf, notOutShare, PRIOR_NOT_OUT, SENSOR_CONFIDENCE, sensorVerdict, type Baselines,
} from '../../../analysis/proactive/confidence.ts'
import type { SensorEvidence } from '../../../analysis/proactive/evidence.ts'

// 10,000 reached residual stops: 250 logged not_presented, 50 passed silently; the round R has reached
// 400 today and passed 20 of them silently; its own history is 1,000 stops with 5 silent passes.
const baselines: Baselines = {
  stream: new Map([['residual', { reached: 10_000, notPresented: 250, silentIsolated: 50 }]]),
  round: new Map([['R|residual', { reached: 1_000, notPresented: 25, silentIsolated: 5 }]]),
  today: new Map([['R|2026-03-02', { reached: 400, silentIsolated: 20 }]]),
}
const base = { stream: 'residual', roundId: 'R', dueDate: '2026-03-02', assisted: false, sensor: 'none' as const }

test('not out: logged not_presented and silent passes over the reached stops, with the prior', () => {
  expect(notOutShare(baselines.stream.get('residual'))).toBeCloseTo((250 + 50 + PRIOR_NOT_OUT * 300) / (10_000 + 300), 10)
  expect(notOutShare(undefined)).toBeCloseTo(PRIOR_NOT_OUT, 10)
})

test('a round that never came: 1 − P(not out)', () => {
  const c = confidenceOf(baselines, { ...base, basis: 'round_not_reached' })
  expect(c.confidence).toBeCloseTo(1 - 318 / 10_300, 3)
})

test('passed alone: the excess of silent passes over the other rounds\' rate', () => {
  // Other rounds: (50 − 5 + 0.01 × 300) / (9,000 + 300) per stop; expected today = that × 400.
  const expected = ((45 + 3) / 9_300) * 400
  const c = confidenceOf(baselines, { ...base, basis: 'passed_by' })
  expect(c.expectedSilent).toBeCloseTo(expected, 3)
  expect(c.confidence).toBeCloseTo(1 - (expected + 2) / (20 + 2), 3)
  // A crew passing no more than the usual scores 0.
  const usual = { ...baselines, today: new Map([['R|2026-03-02', { reached: 400, silentIsolated: 2 }]]) }
  expect(confidenceOf(usual, { ...base, basis: 'passed_by' }).confidence).toBe(0)
})

test('assisted households and a sensor that saw the bin out raise it', () => {
  expect(confidenceOf(baselines, { ...base, basis: 'passed_by', assisted: true }).confidence).toBe(ASSISTED_CONFIDENCE)
  expect(confidenceOf(baselines, { ...base, basis: 'passed_by', sensor: 'out_and_full' }).confidence).toBe(SENSOR_CONFIDENCE)
})

test('what the sensor says', () => {
  const s = (o: Partial<SensorEvidence>): SensorEvidence => ({ collectionId: 1, readings: 10, outSeen: false, lidOpen: false, beforeN: 5, fillBefore: 60, afterN: 2, minFillAfter: 61, lastFill: 62, lastAt: null, ...o })
  expect(sensorVerdict(false, undefined)).toBe('none')
  expect(sensorVerdict(true, undefined)).toBe('unknown')
  expect(sensorVerdict(true, s({ outSeen: true }))).toBe('out_and_full')
  expect(sensorVerdict(true, s({ outSeen: true, afterN: 0, minFillAfter: null }))).toBe('awaiting')
  expect(sensorVerdict(true, s({ outSeen: true, minFillAfter: 3 }))).toBe('emptied')
  expect(sensorVerdict(true, s({}))).toBe('not_out')
  expect(sensorVerdict(true, s({ lidOpen: true }))).toBe('unknown')
  expect(sensorVerdict(true, s({ beforeN: 2 }))).toBe('unknown')
})
