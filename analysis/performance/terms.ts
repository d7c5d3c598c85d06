// A contract's performance terms as the KPIs, points and deductions use them (storage migration 008,
// and 061 for the cost of return trips).
import type { Queryable } from '../../storage/database.ts'

export interface ContractTerms {
  contractId: string
  contractorId: string
  name: string
  startsOn: string
  endsOn: string | null
  monthlyPayment: number
  targetMissedPer100k: number
  targetOnDayPct: number
  targetRectifiedPct: number
  pointsPerMiss: number
  pointsNotRectified: number
  repeatMultiplier: number
  repeatWindowDays: number
  pointValue: number
  deductionCapPct: number
  rectifyWorkingDays: number
  returnVisitCost: number
  returnCostPerKm: number
  returnKmPerVisit: number
}

export class ContractNotFoundError extends Error {
  override name = 'KERBSIDE_ERR_CONTRACT_NOT_FOUND'
  constructor(readonly contractId: string) {
    super(`No contract ${contractId}.`)
  }
}

const SELECT_TERMS = `SELECT contract_id AS "contractId", contractor_id AS "contractorId", name, starts_on AS "startsOn", ends_on AS "endsOn",
    monthly_payment AS "monthlyPayment", target_missed_per_100k AS "targetMissedPer100k", target_on_day_pct AS "targetOnDayPct",
    target_rectified_pct AS "targetRectifiedPct", points_per_miss AS "pointsPerMiss", points_not_rectified AS "pointsNotRectified",
    repeat_multiplier AS "repeatMultiplier", repeat_window_days AS "repeatWindowDays", point_value AS "pointValue",
    deduction_cap_pct AS "deductionCapPct", rectify_working_days AS "rectifyWorkingDays",
    return_visit_cost AS "returnVisitCost", return_cost_per_km AS "returnCostPerKm", return_km_per_visit AS "returnKmPerVisit"
  FROM contracts`

export async function contractTerms(db: Queryable, contractId: string): Promise<ContractTerms> {
  const { rows } = await db.query<ContractTerms>(`${SELECT_TERMS} WHERE contract_id = $1`, [contractId])
  if (!rows[0]) throw new ContractNotFoundError(contractId)
  return rows[0]
}

export async function allContractTerms(db: Queryable): Promise<ContractTerms[]> {
  return (await db.query<ContractTerms>(`${SELECT_TERMS} ORDER BY contract_id`)).rows
}
