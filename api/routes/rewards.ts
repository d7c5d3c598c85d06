// The reward scheme over HTTP (docs/rewards.md): a household's balance and ledger for the CRM and
// contract managers (an audited household read), ward leaderboards without personal data, and the
// rules and manual posting for administrators.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { localDate } from '../../analysis/calendar/dates.ts'
import { wardLeaderboard } from '../../analysis/rewards/leaderboard.ts'
import { householdRewards, postRewards } from '../../analysis/rewards/ledger.ts'
import { lastClosedMonth, monthOfDay, RewardPeriodError } from '../../analysis/rewards/periods.ts'
import { DEFAULT_REWARD_RULES, listRuleSets, RewardRules, RewardRulesError, rulesInForce, saveRuleSet } from '../../analysis/rewards/rules.ts'
import type { Database } from '../../storage/database.ts'
import { findHousehold } from '../../storage/reports.ts'
import { httpError } from '../errors.ts'
import { Errors, Uprn } from '../schemas/common.ts'
import { HouseholdRewards, HouseholdRewardsQuery, LedgerEntry, Month, PutRewardRules, RewardLeaderboard, RewardPosting, RewardRulesView, RuleSetVersion } from '../schemas/rewards.ts'

export const rewardRoutes: FastifyPluginAsyncTypebox<{ db: Database; timezone: string }> = async (app, { db, timezone }) => {
  for (const s of [RewardRules, LedgerEntry, HouseholdRewards, RewardLeaderboard, RuleSetVersion, RewardRulesView, RewardPosting]) app.addSchema(s)
  const thisMonth = () => monthOfDay(localDate(new Date(), timezone))

  app.get('/households/:uprn/rewards', {
    onRequest: app.requireRole('crm', 'contract_manager'),
    schema: {
      tags: ['rewards'], summary: "A household's reward balance, points per month and ledger entries (newest first)", security: [{ apiKey: [] }],
      params: Type.Object({ uprn: Uprn }), querystring: HouseholdRewardsQuery,
      response: { 200: Type.Ref('HouseholdRewards'), ...Errors },
    },
  }, async (req) => {
    if (!(await findHousehold(db, req.params.uprn))) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No household with UPRN ${req.params.uprn}.`)
    return householdRewards(db, req.params.uprn, req.query)
  })

  app.get('/rewards/leaderboard', {
    onRequest: app.requireRole('viewer', 'contract_manager', 'crm'),
    schema: {
      tags: ['rewards'], summary: 'Ward leaderboard for a month: households, points and kg recycled per ward (no personal data)', security: [{ apiKey: [] }],
      description: 'Wards where fewer households have entries than the rules\' leaderboard.minHouseholds are left out and counted in suppressedWards.',
      querystring: Type.Object({ period: Type.Optional(Month) }),
      response: { 200: Type.Ref('RewardLeaderboard'), ...Errors },
    },
  }, async (req) => wardLeaderboard(db, req.query.period ?? lastClosedMonth(new Date(), timezone)))

  app.get('/rewards/rules', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['rewards'], summary: 'The reward rules in force for a month (default: this one) and contract, with every version', security: [{ apiKey: [] }],
      querystring: Type.Object({ period: Type.Optional(Month), contractId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }),
      response: { 200: Type.Ref('RewardRulesView'), ...Errors },
    },
  }, async (req) => {
    const versions = await listRuleSets(db)
    const period = req.query.period ?? thisMonth()
    return { inForce: { period, ...rulesInForce(versions, period, req.query.contractId ?? null) }, defaults: DEFAULT_REWARD_RULES, versions }
  })

  app.put('/rewards/rules', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['rewards'], summary: "Set the council's (or a contract's) reward rules from a month on (default: this month)", security: [{ apiKey: [] }],
      description: 'The whole rule set is sent (GET it, change it, PUT it). A new version is recorded; earlier versions stay. Months already posted change only when posted again (POST /rewards/periods/{period}/post), by adjusting entries.',
      body: PutRewardRules,
      response: { 200: Type.Ref('RewardRuleSetVersion'), ...Errors },
    },
  }, async (req) => {
    try {
      const version = await saveRuleSet(db, { contractId: req.body.contractId ?? null, effectiveFrom: req.body.effectiveFrom ?? thisMonth(), rules: req.body.rules as RewardRules, createdBy: req.caller!.keyId })
      req.log.info({ versionId: version.versionId, contractId: version.contractId, effectiveFrom: version.effectiveFrom, by: req.caller?.keyId }, 'reward rules set')
      return version
    } catch (err) {
      if (err instanceof RewardRulesError) throw httpError(400, err.name, err.message)
      throw err
    }
  })

  app.post('/rewards/periods/:period/post', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['rewards'], summary: 'Post a month now, and the later months of its scheme year (the daily job posts last month)', security: [{ apiKey: [] }],
      description: 'Idempotent: only differences from what is posted are added, as adjusting entries. 409 for a month that is not over.',
      params: Type.Object({ period: Month }),
      response: { 200: Type.Array(Type.Ref('RewardPosting')), 409: Type.Ref('Error'), ...Errors },
    },
  }, async (req) => {
    try {
      const postings = await postRewards(db, { from: req.params.period, timeZone: timezone })
      req.log.info({ period: req.params.period, postings, by: req.caller?.keyId }, 'rewards posted')
      return postings
    } catch (err) {
      if (err instanceof RewardPeriodError) throw httpError(409, err.name, err.message)
      throw err
    }
  })
}
