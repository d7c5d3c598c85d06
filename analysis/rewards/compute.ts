// The reward rules as pure functions: a household's facts for a month and the rules in force give
// the points each rule should stand at for that month (its target), with the reason in words and the
// evidence. The ledger (ledger.ts) compares targets with what is already posted and appends the
// difference. docs/rewards.md has the same definitions with worked examples.
import type { WasteStream } from '../../core/contract/domain.ts'
import type { HouseholdFacts, StreamFacts } from './facts.ts'
import { schemeYearStart, type Month } from './periods.ts'
import type { RewardRule, RewardRules } from './rules.ts'

export interface RuleTarget {
  rule: RewardRule
  points: number
  reason: string
  evidence: Record<string, unknown>
}

export interface WardBaseline {
  ward: string
  kind: 'median' | 'mean'
  /** Qualifying households the baseline is taken over */
  households: number
  kgPerCollection: number
}

const round2 = (n: number) => Math.round(n * 100) / 100
export const fmtKg = (n: number): string => String(round2(n))
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

const NO_FACTS: StreamFacts = { kg: 0, weighedLifts: 0, liftIds: [], presented: 0, contaminated: 0, contaminatedLiftIds: [] }
const facts = (h: HouseholdFacts, s: WasteStream): StreamFacts => h.streams[s] ?? NO_FACTS

/** Residual kg per weighed collection, when the household had at least `minCollections` of them. */
export function residualPerCollection(h: HouseholdFacts, minCollections: number): { kg: number; collections: number; kgPerCollection: number; liftIds: string[] } | null {
  const r = facts(h, 'residual')
  if (r.weighedLifts < minCollections) return null
  return { kg: r.kg, collections: r.weighedLifts, kgPerCollection: round2(r.kg / r.weighedLifts), liftIds: r.liftIds }
}

/** Median (middle value; mean of the two middle ones for an even count) or mean, to 0.01 kg. */
export function baselineOf(values: readonly number[], kind: 'median' | 'mean'): number {
  const v = [...values].sort((a, b) => a - b)
  if (kind === 'mean') return round2(v.reduce((s, x) => s + x, 0) / v.length)
  const mid = Math.floor(v.length / 2)
  return round2(v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2)
}

/**
 * Each ward's baseline for the month: over the ward's households with at least `minCollections`
 * weighed residual lifts that month (the same month, so that season and bank holidays weigh on every
 * household alike). A ward with fewer than `minWardHouseholds` of them has no baseline.
 */
export function wardBaselines(households: Iterable<HouseholdFacts>, r: RewardRules['residualReduction']): Map<string, WardBaseline> {
  const byWard = new Map<string, number[]>()
  for (const h of households) {
    const res = h.ward === null ? null : residualPerCollection(h, r.minCollections)
    if (!res) continue
    const list = byWard.get(h.ward!) ?? []
    list.push(res.kgPerCollection)
    byWard.set(h.ward!, list)
  }
  const out = new Map<string, WardBaseline>()
  for (const [ward, values] of byWard) {
    if (values.length >= r.minWardHouseholds) out.set(ward, { ward, kind: r.baseline, households: values.length, kgPerCollection: baselineOf(values, r.baseline) })
  }
  return out
}

export function recycledWeight(h: HouseholdFacts, rules: RewardRules): RuleTarget {
  const { streams, pointsPerKg } = rules.recycling
  const parts = streams.map((s) => facts(h, s))
  const kg = round2(parts.reduce((s, f) => s + f.kg, 0))
  const lifts = parts.reduce((s, f) => s + f.weighedLifts, 0)
  // Whole points, rounded down, from the month's total in hundredths of a kg (no float drift).
  const points = Math.floor((Math.round(kg * 100) * pointsPerKg) / 100 + 1e-9)
  return {
    rule: 'recycled_weight', points,
    reason: `${fmtKg(kg)} kg recycled in ${plural(lifts, 'weighed lift')} at ${pointsPerKg} points per kg`,
    evidence: { kg, lifts, streams, pointsPerKg, liftIds: parts.flatMap((f) => f.liftIds) },
  }
}

export function residualReduction(h: HouseholdFacts, rules: RewardRules, baseline: WardBaseline | undefined): RuleTarget {
  const r = rules.residualReduction
  const res = residualPerCollection(h, r.minCollections)
  const base = { rule: 'residual_reduction' as const, points: 0 }
  if (!res) return { ...base, reason: `Fewer than ${plural(r.minCollections, 'weighed residual collection')} this month, so no comparison with the ward`, evidence: { collections: facts(h, 'residual').weighedLifts, minCollections: r.minCollections } }
  const evidence = { kg: res.kg, collections: res.collections, kgPerCollection: res.kgPerCollection, liftIds: res.liftIds, ward: h.ward }
  if (!baseline) return { ...base, reason: `No ward baseline this month (fewer than ${r.minWardHouseholds} households in the ward with ${plural(r.minCollections, 'weighed residual collection')})`, evidence }
  const threshold = round2(baseline.kgPerCollection * (1 - r.marginPct / 100))
  const below = res.kgPerCollection <= threshold
  const against = `the ward ${baseline.kind} of ${fmtKg(baseline.kgPerCollection)} kg${r.marginPct > 0 ? ` less ${r.marginPct}% (${fmtKg(threshold)} kg)` : ''}`
  return {
    ...base, points: below ? r.points : 0,
    reason: `Residual waste ${fmtKg(res.kgPerCollection)} kg per collection over ${plural(res.collections, 'collection')}, ${below ? 'at or below' : 'above'} ${against}`,
    evidence: { ...evidence, wardBaselineKg: baseline.kgPerCollection, baseline: baseline.kind, wardHouseholds: baseline.households, marginPct: r.marginPct, thresholdKg: threshold },
  }
}

export function presentation(h: HouseholdFacts, rules: RewardRules): RuleTarget {
  const { streams, pointsPerCollection } = rules.presentation
  const byStream = Object.fromEntries(streams.map((s) => [s, facts(h, s).presented]).filter(([, n]) => n !== 0))
  const n = Object.values(byStream).reduce((s: number, x) => s + (x as number), 0)
  return {
    rule: 'presentation', points: n * pointsPerCollection,
    reason: `${plural(n, 'bin')} presented and emptied with no crew exception, ${pointsPerCollection} points each`,
    evidence: { collections: n, byStream, pointsPerCollection },
  }
}

export function contamination(h: HouseholdFacts, rules: RewardRules): RuleTarget {
  const all = Object.values(h.streams)
  const n = all.reduce((s, f) => s + f.contaminated, 0)
  const per = rules.contamination.pointsPerIncident
  return {
    rule: 'contamination', points: -n * per,
    reason: `${plural(n, 'bin')} recorded as contaminated by the crew, ${per} points off each`,
    evidence: { incidents: n, pointsPerIncident: per, liftIds: all.flatMap((f) => f.contaminatedLiftIds) },
  }
}

/** The four rules that earn or cost points, before caps. */
export function ruleTargets(h: HouseholdFacts, rules: RewardRules, baseline: WardBaseline | undefined): RuleTarget[] {
  if (!rules.enabled) {
    const off = (rule: RewardRule): RuleTarget => ({ rule, points: 0, reason: 'The reward scheme is switched off for this month', evidence: {} })
    return [off('recycled_weight'), off('residual_reduction'), off('presentation'), off('contamination')]
  }
  return [recycledWeight(h, rules), residualReduction(h, rules, baseline), presentation(h, rules), contamination(h, rules)]
}

/**
 * The month's caps, as entries of their own so that the ledger shows them: the month counts between
 * 0 (penalties never take away points earned in other months) and the monthly cap, and no more than
 * what is left of the yearly cap after the scheme year's earlier months.
 */
export function capTargets(raw: number, earnedEarlierInYear: number, rules: RewardRules, month: Month): RuleTarget[] {
  const { monthly, yearly, yearStartsInMonth } = rules.caps
  const monthNet = Math.min(Math.max(raw, 0), monthly)
  const remaining = Math.max(0, yearly - earnedEarlierInYear)
  const yearStart = schemeYearStart(month, yearStartsInMonth)
  return [
    {
      rule: 'monthly_cap', points: raw > monthly ? monthly - raw : 0,
      reason: raw > monthly ? `Monthly cap of ${monthly} points: ${raw} earned, ${raw - monthly} not awarded` : `Monthly cap of ${monthly} points not reached (${raw} earned)`,
      evidence: { earned: raw, cap: monthly },
    },
    {
      rule: 'monthly_floor', points: raw < 0 ? -raw : 0,
      reason: raw < 0 ? `Penalties exceeded the month's points (${raw}): the month counts as 0 and points from other months are kept` : `No penalties beyond the month's points`,
      evidence: { earned: raw },
    },
    {
      rule: 'yearly_cap', points: monthNet > remaining ? remaining - monthNet : 0,
      reason: monthNet > remaining
        ? `Yearly cap of ${yearly} points for the scheme year from ${yearStart}: ${earnedEarlierInYear} earned in earlier months, so ${monthNet - remaining} of this month's ${monthNet} not awarded`
        : `Yearly cap of ${yearly} points for the scheme year from ${yearStart} not reached (${earnedEarlierInYear + monthNet} with this month)`,
      evidence: { cap: yearly, schemeYearStart: yearStart, earnedEarlierInYear, month: monthNet },
    },
  ]
}

export interface NewEntry {
  uprn: number
  rule: RewardRule
  kind: 'award' | 'adjustment'
  points: number
  reason: string
  evidence: Record<string, unknown>
}

/**
 * Entries that bring each rule from what is posted for the month to its target. Nothing when they
 * agree (a rerun adds nothing); a rule posted before gets an adjusting entry for the difference.
 */
export function entriesFor(uprn: number, targets: readonly RuleTarget[], posted: ReadonlyMap<RewardRule, number>): NewEntry[] {
  const out: NewEntry[] = []
  for (const t of targets) {
    const before = posted.get(t.rule)
    const delta = t.points - (before ?? 0)
    if (delta === 0) continue
    out.push(before === undefined
      ? { uprn, rule: t.rule, kind: 'award', points: delta, reason: t.reason, evidence: t.evidence }
      : { uprn, rule: t.rule, kind: 'adjustment', points: delta, reason: `Recalculated: ${t.reason} (${t.points} now, ${before} posted before)`, evidence: { ...t.evidence, postedBefore: before, target: t.points } })
  }
  return out
}
