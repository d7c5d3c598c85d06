// The reward scheme's request and response shapes (docs/rewards.md). Declared once: fastify validates
// and serialises with them, the OpenAPI document lists them, and the dashboard imports the types.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { REWARD_RULES } from '../../analysis/rewards/rules.ts'
import { DateTime, Paging, Uprn } from './common.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
export const Month = Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'A calendar month, YYYY-MM' })
const Rule = Type.Union(REWARD_RULES.map((r) => Type.Literal(r)))

export const LedgerEntry = Type.Object({
  entryId: Type.Integer(),
  uprn: Uprn,
  period: Month,
  rule: Rule,
  kind: Type.Union([Type.Literal('award'), Type.Literal('adjustment')], { description: 'award: first entry of the rule for the period; adjustment: a later difference (late data, changed rules)' }),
  points: Type.Integer(),
  reason: Type.String(),
  evidence: Type.Object({}, { additionalProperties: true, description: 'What the entry was computed from: kg, lift ids (<device>#<seq>), ward baseline, caps…' }),
  ruleSetVersion: Nullable(Type.Integer({ description: 'Rule set version used; null = the built-in defaults' })),
  postedAt: DateTime,
}, { $id: 'RewardLedgerEntry' })
export type LedgerEntry = Static<typeof LedgerEntry>

export const HouseholdRewards = Type.Object({
  uprn: Uprn,
  balance: Type.Integer(),
  periods: Type.Array(Type.Object({ period: Month, points: Type.Integer() }), { description: 'Points per month, newest first' }),
  total: Type.Integer({ description: 'Entries matching the query' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
  entries: Type.Array(Type.Ref('RewardLedgerEntry'), { description: 'Newest first' }),
}, { $id: 'HouseholdRewards' })

export const HouseholdRewardsQuery = Type.Composite([Paging, Type.Object({ period: Type.Optional(Month) })])

export const RewardLeaderboard = Type.Object({
  period: Month,
  minHouseholds: Type.Integer({ description: 'Households with entries a ward needs to be listed' }),
  wards: Type.Array(Type.Object({
    rank: Type.Integer(), ward: Type.String(), households: Type.Integer(), participating: Type.Integer(), totalPoints: Type.Integer(),
    averagePoints: Type.Number({ description: 'Points per household registered in the ward' }), recycledKg: Type.Number(), recycledKgPerHousehold: Type.Number(),
  })),
  suppressedWards: Type.Integer({ description: 'Wards not listed because too few of their households have entries' }),
}, { $id: 'RewardLeaderboard' })
export type RewardLeaderboard = Static<typeof RewardLeaderboard>

export const RuleSetVersion = Type.Object({
  versionId: Type.Integer(),
  contractId: Nullable(Type.String({ description: "null = the council's own rules" })),
  effectiveFrom: Month,
  rules: Type.Ref('RewardRules'),
  createdBy: Type.String(),
  createdAt: DateTime,
}, { $id: 'RewardRuleSetVersion' })

export const RewardRulesView = Type.Object({
  inForce: Type.Object({
    period: Month,
    source: Type.Union([Type.Literal('contract'), Type.Literal('council'), Type.Literal('default')]),
    versionId: Nullable(Type.Integer()),
    contractId: Nullable(Type.String()),
    effectiveFrom: Nullable(Month),
    rules: Type.Ref('RewardRules'),
  }),
  defaults: Type.Ref('RewardRules'),
  versions: Type.Array(Type.Ref('RewardRuleSetVersion'), { description: 'Every version, newest first' }),
}, { $id: 'RewardRulesView' })

export const PutRewardRules = Type.Object({
  contractId: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64, description: "A contract's own rules; omit or null for the council's" }))),
  effectiveFrom: Type.Optional(Month),
  rules: Type.Ref('RewardRules'),
}, { additionalProperties: false })

export const RewardPosting = Type.Object({
  period: Month, households: Type.Integer(), entries: Type.Integer(), adjustments: Type.Integer(), points: Type.Integer(), events: Type.Integer(),
}, { $id: 'RewardPosting' })
