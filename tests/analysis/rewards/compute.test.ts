// The reward rules as pure functions, each against a hand-computed case (docs/rewards.md).
import { describe, expect, test } from 'vitest'
import { baselineOf, capTargets, contamination, entriesFor, presentation, recycledWeight, residualReduction, ruleTargets, wardBaselines } from '../../../analysis/rewards/compute.ts'
import type { HouseholdFacts, StreamFacts } from '../../../analysis/rewards/facts.ts'
import { DEFAULT_REWARD_RULES as R } from '../../../analysis/rewards/rules.ts'
import { addMonths, schemeYearStart } from '../../../analysis/rewards/periods.ts'

const s = (f: Partial<StreamFacts>): StreamFacts => ({ kg: 0, weighedLifts: 0, liftIds: [], presented: 0, contaminated: 0, contaminatedLiftIds: [], ...f })
const home = (uprn: number, ward: string | null, streams: HouseholdFacts['streams']): HouseholdFacts => ({ uprn, ward, contractId: null, streams })

describe('recycled weight', () => {
  test('points per kg of the month\'s total, rounded down, over the configured streams only', () => {
    const h = home(1, 'W', { recycling: s({ kg: 12.35, weighedLifts: 2, liftIds: ['v#1', 'v#2'] }), glass: s({ kg: 3.1, weighedLifts: 1, liftIds: ['v#3'] }), garden: s({ kg: 40, weighedLifts: 2 }) })
    // (12.35 + 3.1) × 5.5 = 84.975 → 84; garden waste earns nothing.
    expect(recycledWeight(h, R)).toMatchObject({ rule: 'recycled_weight', points: 84, evidence: { kg: 15.45, lifts: 3, liftIds: ['v#1', 'v#2', 'v#3'] } })
  })

  test('no float drift: 0.2 kg × 5 points is 1 point, not 0', () => {
    expect(recycledWeight(home(1, 'W', { recycling: s({ kg: 0.2, weighedLifts: 1 }) }), { ...R, recycling: { streams: ['recycling'], pointsPerKg: 5 } }).points).toBe(1)
  })
})

describe('residual waste against the ward baseline', () => {
  const res = (kg: number, lifts: number) => ({ residual: s({ kg, weighedLifts: lifts }) })
  test('median of an odd and an even count; mean', () => {
    expect(baselineOf([13, 7.5, 10.5], 'median')).toBe(10.5)
    expect(baselineOf([13, 7.5, 10.5, 9], 'median')).toBe(9.75)
    expect(baselineOf([13, 7.5, 10.5, 9], 'mean')).toBe(10)
  })

  test('only households with enough weighed collections count, and a ward needs enough of them', () => {
    const homes = [home(1, 'N', res(15, 2)), home(2, 'N', res(26, 2)), home(3, 'N', res(21, 2)), home(4, 'N', res(9, 1)), home(5, 'S', res(20, 2))]
    const b = wardBaselines(homes, { ...R.residualReduction, minWardHouseholds: 3 })
    expect([...b.values()]).toEqual([{ ward: 'N', kind: 'median', households: 3, kgPerCollection: 10.5 }])
  })

  test('points at or below baseline less the margin, none above, a reason either way', () => {
    const baseline = { ward: 'N', kind: 'median' as const, households: 3, kgPerCollection: 10 }
    // threshold 10 × 0.9 = 9.0
    expect(residualReduction(home(1, 'N', res(18, 2)), R, baseline)).toMatchObject({ points: 40, evidence: { kgPerCollection: 9, thresholdKg: 9 } })
    expect(residualReduction(home(1, 'N', res(18.2, 2)), R, baseline)).toMatchObject({ points: 0, reason: expect.stringContaining('above the ward median of 10 kg less 10% (9 kg)') })
    expect(residualReduction(home(1, 'N', res(9, 1)), R, baseline)).toMatchObject({ points: 0, reason: expect.stringMatching(/^Fewer than 2 weighed residual collections/) })
    expect(residualReduction(home(1, 'N', res(10, 2)), R, undefined)).toMatchObject({ points: 0, reason: expect.stringMatching(/^No ward baseline/) })
  })
})

describe('presentation and contamination', () => {
  test('points per bin presented without exception; penalty per contaminated bin', () => {
    const h = home(1, 'W', { residual: s({ presented: 2 }), recycling: s({ presented: 3, contaminated: 1, contaminatedLiftIds: ['v#9'] }), food: s({ contaminated: 1, contaminatedLiftIds: ['v#10'] }) })
    expect(presentation(h, R)).toMatchObject({ points: 10, evidence: { collections: 5, byStream: { residual: 2, recycling: 3 } } })
    expect(contamination(h, R)).toMatchObject({ points: -50, evidence: { incidents: 2, liftIds: ['v#9', 'v#10'] } })
  })

  test('a scheme switched off earns nothing', () => {
    const h = home(1, 'W', { recycling: s({ kg: 50, weighedLifts: 4, presented: 4 }) })
    expect(ruleTargets(h, { ...R, enabled: false }, undefined).map((t) => t.points)).toEqual([0, 0, 0, 0])
  })
})

describe('caps', () => {
  const caps = (raw: number, earlier: number) => Object.fromEntries(capTargets(raw, earlier, R, '2026-03').map((t) => [t.rule, t.points]))
  test('monthly cap, floor at zero, and what is left of the yearly cap', () => {
    expect(caps(330, 0)).toEqual({ monthly_cap: 0, monthly_floor: 0, yearly_cap: 0 })
    expect(caps(558, 0)).toEqual({ monthly_cap: -158, monthly_floor: 0, yearly_cap: 0 })
    expect(caps(-48, 0)).toEqual({ monthly_cap: 0, monthly_floor: 48, yearly_cap: 0 })
    // 2,800 of 3,000 earned: 200 left of this month's 400.
    expect(caps(558, 2800)).toEqual({ monthly_cap: -158, monthly_floor: 0, yearly_cap: -200 })
    expect(caps(100, 3100)).toEqual({ monthly_cap: 0, monthly_floor: 0, yearly_cap: -100 })
  })

  test('scheme years start in the configured month', () => {
    expect(schemeYearStart('2026-03', 4)).toBe('2025-04')
    expect(schemeYearStart('2026-04', 4)).toBe('2026-04')
    expect(schemeYearStart('2026-03', 1)).toBe('2026-01')
    expect(addMonths('2026-12', 1)).toBe('2027-01')
    expect(addMonths('2026-01', -1)).toBe('2025-12')
  })
})

describe('entries', () => {
  const t = (rule: 'recycled_weight' | 'monthly_cap', points: number) => ({ rule, points, reason: `${rule} ${points}`, evidence: {} })
  test('first posting awards; a change adds the difference; no change adds nothing', () => {
    expect(entriesFor(1, [t('recycled_weight', 276), t('monthly_cap', 0)], new Map())).toEqual([{ uprn: 1, rule: 'recycled_weight', kind: 'award', points: 276, reason: 'recycled_weight 276', evidence: {} }])
    expect(entriesFor(1, [t('recycled_weight', 276)], new Map([['recycled_weight', 276]]))).toEqual([])
    expect(entriesFor(1, [t('recycled_weight', 320), t('monthly_cap', 0)], new Map([['recycled_weight', 276], ['monthly_cap', -10]]))).toEqual([
      { uprn: 1, rule: 'recycled_weight', kind: 'adjustment', points: 44, reason: 'Recalculated: recycled_weight 320 (320 now, 276 posted before)', evidence: { postedBefore: 276, target: 320 } },
      { uprn: 1, rule: 'monthly_cap', kind: 'adjustment', points: 10, reason: 'Recalculated: monthly_cap 0 (0 now, -10 posted before)', evidence: { postedBefore: -10, target: 0 } },
    ])
  })
})
