// What putting misses right costs: every rectification visit (a miss returned to, in time or late)
// at the contract's cost per visit, plus its kilometres at the cost per kilometre, the kilometres of
// a visit estimated by the contract's return_km_per_visit (storage migration 061). Late collections
// (the contractor finishing a round the next day, unasked) are counted beside them, not costed:
// they are the contractor's own recovery, not a return the council asked for.
import type { ContractTerms } from '../performance/terms.ts'

export interface ReturnTripCost {
  visits: number
  costPerVisit: number
  costPerKm: number
  kmPerVisit: number
  km: number
  cost: number
  collectedLateVisits: number
}

export function returnTripCost(visits: number, collectedLateVisits: number, t: Pick<ContractTerms, 'returnVisitCost' | 'returnCostPerKm' | 'returnKmPerVisit'>): ReturnTripCost {
  const km = visits * t.returnKmPerVisit
  const cost = Math.round((visits * t.returnVisitCost + km * t.returnCostPerKm) * 100) / 100
  return { visits, costPerVisit: t.returnVisitCost, costPerKm: t.returnCostPerKm, kmPerVisit: t.returnKmPerVisit, km, cost, collectedLateVisits }
}
