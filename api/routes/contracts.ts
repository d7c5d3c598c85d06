// The council's contracts, for the dashboard's contract picker: names and targets only (the terms
// that earn deductions stay with /contracts/{id}/performance).
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { allContractTerms } from '../../analysis/performance/terms.ts'
import type { Database } from '../../storage/database.ts'
import { Errors } from '../schemas/common.ts'
import { ContractSummary } from '../schemas/contracts.ts'

export const contractRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.addSchema(ContractSummary)

  app.get('/contracts', {
    onRequest: app.requireRole('contract_manager', 'viewer', 'crm'),
    schema: {
      tags: ['performance'], summary: 'The contracts, with their KPI targets', security: [{ apiKey: [] }],
      response: { 200: Type.Array(Type.Ref('ContractSummary')), ...Errors },
    },
  }, async () => (await allContractTerms(db)).map((c) => ({
    contractId: c.contractId, name: c.name, contractorId: c.contractorId, startsOn: c.startsOn, endsOn: c.endsOn,
    targets: { missedPer100k: c.targetMissedPer100k, onDayPct: c.targetOnDayPct, rectifiedPct: c.targetRectifiedPct },
  })))
}
