// The reward scheme's rules: one JSON document (schema below, declared once for validation, the
// OpenAPI document and the dashboard), the council's own or a contract's, versioned by the month it
// takes effect. docs/rewards.md explains each rule and why the defaults are what they are.
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { WASTE_STREAMS } from '../../core/contract/domain.ts'
import type { Queryable } from '../../storage/database.ts'
import { monthStart, type Month } from './periods.ts'

export const REWARD_RULES = ['recycled_weight', 'residual_reduction', 'presentation', 'contamination', 'monthly_cap', 'monthly_floor', 'yearly_cap'] as const
export type RewardRule = (typeof REWARD_RULES)[number]

const Stream = Type.Union(WASTE_STREAMS.map((s) => Type.Literal(s)))
const Streams = Type.Array(Stream, { minItems: 1, uniqueItems: true })
const Points = (description: string) => Type.Integer({ minimum: 0, maximum: 100_000, description })

export const RewardRules = Type.Object({
  enabled: Type.Boolean({ description: 'false: no points are posted for months this version covers' }),
  recycling: Type.Object({
    streams: Type.Array(Stream, { uniqueItems: true, description: 'Streams whose weighed lifts earn points by weight (dry recycling by default)' }),
    pointsPerKg: Type.Number({ minimum: 0, maximum: 1000, description: "Points per kg recycled in the month; the month's total is rounded down to whole points" }),
  }, { additionalProperties: false }),
  residualReduction: Type.Object({
    points: Points('Points in a month when the household\'s residual kg per collection is at or below the ward threshold'),
    baseline: Type.Union([Type.Literal('median'), Type.Literal('mean')], { description: "The ward baseline: median or mean residual kg per collection of the ward's qualifying households in the same month" }),
    marginPct: Type.Number({ minimum: 0, maximum: 100, description: 'How far below the baseline a household must be: threshold = baseline × (1 − marginPct/100)' }),
    minCollections: Type.Integer({ minimum: 1, maximum: 31, description: 'Weighed residual lifts a household needs in the month to take part' }),
    minWardHouseholds: Type.Integer({ minimum: 1, maximum: 100_000, description: 'Qualifying households a ward needs for a baseline; fewer, and nobody in it earns this rule that month' }),
  }, { additionalProperties: false }),
  presentation: Type.Object({
    pointsPerCollection: Points('Points per bin presented and emptied on a day with no crew exception for that bin'),
    streams: Streams,
  }, { additionalProperties: false }),
  contamination: Type.Object({
    pointsPerIncident: Points('Points taken away per bin recorded as contaminated by the crew (at most one per bin per day)'),
  }, { additionalProperties: false }),
  caps: Type.Object({
    monthly: Points('Most points a household can earn in a month, after penalties'),
    yearly: Points('Most points a household can earn in a scheme year'),
    yearStartsInMonth: Type.Integer({ minimum: 1, maximum: 12, description: 'Month the scheme year starts in (4 = April, the UK financial year)' }),
  }, { additionalProperties: false }),
  leaderboard: Type.Object({
    minHouseholds: Type.Integer({ minimum: 1, maximum: 100_000, description: 'Households with entries a ward needs in the month to be listed (small-number suppression)' }),
  }, { additionalProperties: false }),
}, { $id: 'RewardRules', additionalProperties: false })
export type RewardRules = Static<typeof RewardRules>

/**
 * Defaults a council would recognise. Recyclebank gave 2.5 points per lb of recycling (US), which is
 * 5.51 per kg; 5.5 keeps it round. A household recycling the 8.5–9 kg a week Windsor & Maidenhead
 * reported earns about 210 points a month; the monthly cap (400) is about twice that, the yearly cap
 * (3,000) a good year's worth, so that nobody gains by putting out more than they really recycle.
 */
export const DEFAULT_REWARD_RULES: RewardRules = {
  enabled: true,
  recycling: { streams: ['recycling', 'glass'], pointsPerKg: 5.5 },
  residualReduction: { points: 40, baseline: 'median', marginPct: 10, minCollections: 2, minWardHouseholds: 10 },
  presentation: { pointsPerCollection: 2, streams: [...WASTE_STREAMS] },
  contamination: { pointsPerIncident: 25 },
  caps: { monthly: 400, yearly: 3000, yearStartsInMonth: 4 },
  leaderboard: { minHouseholds: 10 },
}

export class RewardRulesError extends Error {
  override name = 'KERBSIDE_ERR_REWARD_RULES'
}

export interface RuleSetVersion {
  versionId: number
  /** null = the council's own rules */
  contractId: string | null
  effectiveFrom: Month
  rules: RewardRules
  createdBy: string
  createdAt: Date
}

export interface RulesInForce {
  source: 'contract' | 'council' | 'default'
  versionId: number | null
  contractId: string | null
  effectiveFrom: Month | null
  rules: RewardRules
}

export async function listRuleSets(db: Queryable): Promise<RuleSetVersion[]> {
  const { rows } = await db.query<RuleSetVersion>(
    `SELECT version_id AS "versionId", contract_id AS "contractId", to_char(effective_from, 'YYYY-MM') AS "effectiveFrom", rules,
            created_by AS "createdBy", created_at AS "createdAt"
       FROM reward_rule_sets ORDER BY effective_from DESC, version_id DESC`,
  )
  for (const r of rows) {
    if (!Value.Check(RewardRules, r.rules)) throw new RewardRulesError(`Reward rule set version ${r.versionId} in the database does not match the RewardRules schema; PUT a corrected version.`)
  }
  return rows
}

export async function saveRuleSet(db: Queryable, v: { contractId: string | null; effectiveFrom: Month; rules: RewardRules; createdBy: string }): Promise<RuleSetVersion> {
  if (!Value.Check(RewardRules, v.rules)) {
    const e = [...Value.Errors(RewardRules, v.rules)][0]
    throw new RewardRulesError(`Reward rules are not valid: ${e?.path || '(root)'} ${e?.message ?? ''}`.trim())
  }
  if (v.contractId !== null) {
    const { rowCount } = await db.query(`SELECT 1 FROM contracts WHERE contract_id = $1`, [v.contractId])
    if (rowCount === 0) throw new RewardRulesError(`No contract ${v.contractId}.`)
  }
  const { rows } = await db.query<RuleSetVersion>(
    `INSERT INTO reward_rule_sets (contract_id, effective_from, rules, created_by) VALUES ($1, $2, $3, $4)
     RETURNING version_id AS "versionId", contract_id AS "contractId", to_char(effective_from, 'YYYY-MM') AS "effectiveFrom", rules,
               created_by AS "createdBy", created_at AS "createdAt"`,
    [v.contractId, monthStart(v.effectiveFrom), JSON.stringify(v.rules), v.createdBy],
  )
  return rows[0]!
}

/**
 * The rules for a month: the contract's latest version in force then, else the council's, else the
 * defaults. `versions` as listRuleSets returns them (newest first).
 */
export function rulesInForce(versions: readonly RuleSetVersion[], month: Month, contractId: string | null): RulesInForce {
  const pick = (scope: string | null) => versions.find((v) => v.contractId === scope && v.effectiveFrom <= month)
  const v = (contractId !== null ? pick(contractId) : undefined) ?? pick(null)
  if (!v) return { source: 'default', versionId: null, contractId: null, effectiveFrom: null, rules: DEFAULT_REWARD_RULES }
  return { source: v.contractId === null ? 'council' : 'contract', versionId: v.versionId, contractId: v.contractId, effectiveFrom: v.effectiveFrom, rules: v.rules }
}
