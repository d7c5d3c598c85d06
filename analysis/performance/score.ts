// The contractor's 0–100 score: each KPI that has a target in the contract is scored against it,
// and the scores are averaged with fixed weights.
//
// Each KPI is turned into a failure rate with an allowed level from its target:
//   missed per 100,000         failure = missed per 100,000,        allowed = target_missed_per_100k
//   collected on the day %     failure = 100 − on-day %,            allowed = 100 − target_on_day_pct
//   rectified in time %        failure = 100 − rectified-in-time %, allowed = 100 − target_rectified_pct
// and scored 100 at or below the allowed level, falling in a straight line to 0 at three times it:
//   kpi score = 100 × clamp((3 × allowed − failure) / (2 × allowed), 0, 1)
// (with an allowed level of 0, any failure scores 0). Weights: missed 0.5, on the day 0.3,
// rectified 0.2 — misses are what residents feel and what contracts penalise first.
// A KPI with no data in the period (a zero base) is left out and the other weights renormalised;
// with no data at all the score is null. The score is rounded to one decimal.
import type { KpiFigures } from './kpis.ts'
import type { ContractTerms } from './terms.ts'

export type ScoredKpi = 'missedPer100k' | 'onDayPct' | 'rectifiedInTimePct'

export const SCORE_WEIGHTS: Record<ScoredKpi, number> = { missedPer100k: 0.5, onDayPct: 0.3, rectifiedInTimePct: 0.2 }
/** A KPI scores 0 at this multiple of its allowed failure level. */
export const ZERO_AT_MULTIPLE = 3

export interface ScoreComponent {
  kpi: ScoredKpi
  value: number | null
  target: number
  /** Target met (null without data). Lower is better for misses, higher for the percentages. */
  met: boolean | null
  score: number | null
  weight: number
}

export interface Score {
  score: number | null
  components: ScoreComponent[]
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x))

/** 0–100 for a failure rate against the level the contract allows. */
export function failureScore(failure: number, allowed: number): number {
  if (allowed <= 0) return failure <= 0 ? 100 : 0
  return 100 * clamp01((ZERO_AT_MULTIPLE * allowed - failure) / ((ZERO_AT_MULTIPLE - 1) * allowed))
}

type TargetTerms = Pick<ContractTerms, 'targetMissedPer100k' | 'targetOnDayPct' | 'targetRectifiedPct'>

export function contractScore(f: Pick<KpiFigures, ScoredKpi>, t: TargetTerms): Score {
  const parts: { kpi: ScoredKpi; value: number | null; target: number; failure: number | null; allowed: number; lowerIsBetter: boolean }[] = [
    { kpi: 'missedPer100k', value: f.missedPer100k, target: t.targetMissedPer100k, failure: f.missedPer100k, allowed: t.targetMissedPer100k, lowerIsBetter: true },
    { kpi: 'onDayPct', value: f.onDayPct, target: t.targetOnDayPct, failure: f.onDayPct === null ? null : 100 - f.onDayPct, allowed: 100 - t.targetOnDayPct, lowerIsBetter: false },
    { kpi: 'rectifiedInTimePct', value: f.rectifiedInTimePct, target: t.targetRectifiedPct, failure: f.rectifiedInTimePct === null ? null : 100 - f.rectifiedInTimePct, allowed: 100 - t.targetRectifiedPct, lowerIsBetter: false },
  ]
  let weighted = 0
  let weights = 0
  const components = parts.map((p): ScoreComponent => {
    const weight = SCORE_WEIGHTS[p.kpi]
    if (p.value === null || p.failure === null) return { kpi: p.kpi, value: null, target: p.target, met: null, score: null, weight }
    const s = failureScore(p.failure, p.allowed)
    weighted += weight * s
    weights += weight
    return { kpi: p.kpi, value: p.value, target: p.target, met: p.lowerIsBetter ? p.value <= p.target : p.value >= p.target, score: Math.round(s * 10) / 10, weight }
  })
  return { score: weights > 0 ? Math.round((weighted / weights) * 10) / 10 : null, components }
}
