// Fill-level bands, shared by the API (the map's tiles and counts) and the dashboard (its colours
// and labels: dashboard/src/lib/fill-bands.ts): 0 no reading, 1 under 50 %, 2 50–75 %, 3 75–90 %,
// 4 at or over the overflow threshold.
export const FILL_BAND_COUNT = 5

/** Band of a fill percentage; the full band starts at the overflow threshold. */
export function fillBand(pct: number | null, overflowPct = 90): number {
  if (pct === null || Number.isNaN(pct)) return 0
  if (pct >= overflowPct) return 4
  if (pct >= 75) return 3
  if (pct >= 50) return 2
  return 1
}
