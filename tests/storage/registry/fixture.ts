// A small registry for tests: one contractor and contract, households on two alternate-week
// fortnightly rounds (residual and recycling, Mondays) and a garden-waste subscription round (Tuesdays).
import type { RegistryDataset } from '../../../core/contract/registry.ts'
import type { Database } from '../../../storage/database.ts'

export const UPRN0 = 100_000_000_001

export function smallCity(households = 6): Required<RegistryDataset> {
  const uprns = Array.from({ length: households }, (_, i) => UPRN0 + i)
  return {
    contractors: [{ contractorId: 'acme', name: 'Acme Waste Ltd' }],
    households: uprns.map((uprn, i) => ({
      uprn, address: `${i + 1} Test Street`, street: 'Test Street', postcode: 'L1 1AA', ward: i % 2 ? 'North' : 'South',
      lat: 53.4 + (i % 1000) / 10_000, lon: -2.99 + Math.floor(i / 1000) / 10_000, assisted: i === 0, crmRef: `CRM-${i + 1}`,
    })),
    bins: uprns.flatMap((uprn, i) => [
      { binId: `b-${i + 1}-r`, uprn, stream: 'residual' as const, rfidTag: `TAG-${i + 1}-R`, capacityL: 240, colour: 'black' },
      { binId: `b-${i + 1}-c`, uprn, stream: 'recycling' as const, rfidTag: `TAG-${i + 1}-C`, capacityL: 240, colour: 'blue' },
    ]),
    vehicles: [{ vehicleId: 'rcv-1', registration: 'KB26 RCV', contractorId: 'acme', capacityKg: 12_000 }],
    contracts: [{ contractId: 'k1', contractorId: 'acme', name: 'Refuse and recycling 2024–2032', startsOn: '2024-04-01', monthlyPayment: 850_000.5, targetMissedPer100k: 25 }],
    rounds: [
      // 2026-01-05 and 2026-01-12 are Mondays a week apart: the two rounds alternate weeks.
      { roundId: 'mon-res', contractId: 'k1', name: 'Monday residual', stream: 'residual', vehicleId: 'rcv-1', weekday: 1, frequency: 'fortnightly', anchorDate: '2026-01-05' },
      { roundId: 'mon-rec', contractId: 'k1', name: 'Monday recycling', stream: 'recycling', vehicleId: 'rcv-1', weekday: 1, frequency: 'fortnightly', anchorDate: '2026-01-12', startsAt: '06:30', endsAt: '14:30' },
      { roundId: 'tue-gdn', contractId: 'k1', name: 'Tuesday garden', stream: 'garden', weekday: 2, frequency: 'fortnightly', anchorDate: '2026-01-06', subscription: true },
    ],
    roundStops: [
      ...uprns.map((uprn, i) => ({ roundId: 'mon-res', uprn, position: i })),
      ...uprns.map((uprn, i) => ({ roundId: 'mon-rec', uprn, position: uprns.length - 1 - i })),
      ...uprns.map((uprn, i) => ({ roundId: 'tue-gdn', uprn, position: i })),
    ],
    subscriptions: [
      { uprn: UPRN0, stream: 'garden', startsOn: '2025-03-01' },
      { uprn: UPRN0 + 1, stream: 'garden', startsOn: '2025-03-01', endsOn: '2026-01-31' },
    ],
  }
}

const TABLES = ['scheduled_collections', 'calendar_overrides', 'subscriptions', 'round_households', 'rounds', 'contracts', 'devices', 'bins', 'vehicles', 'households', 'contractors']

/** Empty the registry tables (between tests sharing one database). */
export async function clearRegistry(db: Database): Promise<void> {
  for (const t of TABLES) await db.query(`DELETE FROM ${t}`)
}

/** Rows in each registry table: to show that a refused import wrote nothing. */
export async function tableCounts(db: Database): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const t of TABLES) out[t] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0]!.n
  return out
}
