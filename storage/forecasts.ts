// The stored fill forecasts (migration 091) as the contract manager's list: bins forecast to overflow
// before their collection first, communal and high-use bins before the rest, soonest full first.
import type { Queryable } from './database.ts'

/** One bin's fill forecast, as the forecast job computes and stores it (analysis/forecast). */
export interface BinForecast {
  binId: string
  uprn: number
  stream: string
  capacityL: number | null
  communal: boolean
  highUse: boolean
  fillPct: number
  readAt: Date
  lastEmptiedAt: Date | null
  ratePctPerDay: number | null
  fullAt: Date | null
  nextDueDate: string | null
  nextCollectionAt: Date | null
  fillAtNextPct: number | null
  overflow: boolean
  cycles: number
  /** history (past cycles), current (this cycle only), blended, or none (no rate yet). */
  basis: 'history' | 'current' | 'blended' | 'none'
  priority: number
}

export interface StoredForecast extends BinForecast {
  address: string
  forecastAt: Date
}

const SELECT = `
SELECT f.bin_id AS "binId", f.uprn, h.address, f.stream, f.capacity_l AS "capacityL", f.communal, f.high_use AS "highUse", f.fill_pct AS "fillPct",
       f.read_at AS "readAt", f.last_emptied_at AS "lastEmptiedAt", f.rate_pct_per_day AS "ratePctPerDay", f.full_at AS "fullAt",
       f.next_due_date AS "nextDueDate", f.next_collection_at AS "nextCollectionAt", f.fill_at_next_pct AS "fillAtNextPct", f.overflow,
       f.cycles, f.basis, f.priority, f.forecast_at AS "forecastAt"
  FROM bin_forecasts f JOIN households h ON h.uprn = f.uprn`

export async function listForecasts(db: Queryable, o: { overflowOnly: boolean; stream?: string; contractId?: string; limit: number; offset: number }): Promise<StoredForecast[]> {
  const { rows } = await db.query<StoredForecast>(
    `${SELECT}
      WHERE (NOT $1::boolean OR f.overflow) AND ($2::text IS NULL OR f.stream = $2)
        AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM round_households rh JOIN rounds r ON r.round_id = rh.round_id
                                          WHERE rh.uprn = f.uprn AND r.stream = f.stream AND r.contract_id = $3))
      ORDER BY f.overflow DESC, f.priority, f.full_at NULLS LAST, f.bin_id LIMIT $4 OFFSET $5`,
    [o.overflowOnly, o.stream ?? null, o.contractId ?? null, o.limit, o.offset],
  )
  return rows
}

export async function getForecast(db: Queryable, binId: string): Promise<StoredForecast | null> {
  const { rows } = await db.query<StoredForecast>(`${SELECT} WHERE f.bin_id = $1`, [binId])
  return rows[0] ?? null
}
