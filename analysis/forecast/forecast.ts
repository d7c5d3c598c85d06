// Fill forecasts per sensor bin, from the bin's own history: how full it will be at its next scheduled
// collection, and when it will be full.
//
// The readings of the last HISTORY_DAYS are cut into cycles at each emptying (a fall of at least
// EMPTY_DROP points to under EMPTY_BELOW %). In each cycle the fill rate is the least-squares slope of
// fill against time over the readings below CLAMPED_AT (a full bin reads 100 however much more is
// piled on). The bin's rate is the slopes of its past cycles, weighted by their length, blended with
// the current cycle's once that has run a day (weighted the same way: a bin whose use changed shows it
// soon). The fill now is the current cycle's fitted line at the last reading (the sensor's ±2 % noise
// averaged out), or the last reading while the cycle is young.
//
//   full at            now + (100 − fill now) / rate; the first reading at CLAMPED_AT or more when full already.
//   fill at next       fill now + rate × time to the next scheduled collection (its round's start).
//   overflow           full before the next collection.
//   priority           1 communal bins (or 660 L and up), 2 high-use bins (rate in the top decile of the
//                      stream or filling in under HIGH_USE_DAYS), 3 the rest; then soonest full first.
import type { Queryable } from '../../storage/database.ts'
import type { BinForecast } from '../../storage/forecasts.ts'

export type { BinForecast }

export const HISTORY_DAYS = 28
export const EMPTY_DROP = 25
export const EMPTY_BELOW = 20
export const CLAMPED_AT = 98
export const MIN_CYCLE_READINGS = 6
export const COMMUNAL_LITRES = 660
export const HIGH_USE_DAYS = 5
const DAY_MS = 86_400_000

// $1 now, $2 only these bins (NULL: every bin with a sensor), $3..$6 the constants above.
const FORECAST_SQL = `
WITH r AS (
  SELECT r.bin_id, r.ts, r.fill_pct, extract(epoch FROM r.ts) / 86400.0 AS day,
         CASE WHEN lag(r.fill_pct) OVER w - r.fill_pct >= $3 AND r.fill_pct < $4 THEN 1 ELSE 0 END AS emptied
    FROM bin_readings r
   WHERE r.ts > $1::timestamptz - make_interval(days => ${HISTORY_DAYS}) AND r.ts <= $1::timestamptz AND r.bin_id IS NOT NULL
     AND ($2::text[] IS NULL OR r.bin_id = ANY($2::text[]))
  WINDOW w AS (PARTITION BY r.bin_id ORDER BY r.ts)
),
c AS (
  SELECT r.*, sum(emptied) OVER (PARTITION BY bin_id ORDER BY ts) AS cycle FROM r
),
cycles AS (
  SELECT bin_id, cycle, min(ts) AS started, max(ts) AS ended, bool_or(emptied = 1) AS after_emptying,
         regr_slope(fill_pct, day) FILTER (WHERE fill_pct < $5) AS slope,
         regr_intercept(fill_pct, day) FILTER (WHERE fill_pct < $5) AS intercept,
         count(*) FILTER (WHERE fill_pct < $5) AS n,
         (max(day) FILTER (WHERE fill_pct < $5) - min(day) FILTER (WHERE fill_pct < $5)) AS span_days,
         min(ts) FILTER (WHERE fill_pct >= $5) AS full_seen
    FROM c GROUP BY bin_id, cycle
),
per_bin AS (
  SELECT bin_id, max(cycle) AS current, count(*) AS cycles FROM cycles GROUP BY bin_id
),
latest AS (
  SELECT DISTINCT ON (bin_id) bin_id, ts, fill_pct FROM r ORDER BY bin_id, ts DESC
)
SELECT b.bin_id AS "binId", b.uprn, b.stream, b.capacity_l AS "capacityL", b.communal,
       l.ts AS "readAt", l.fill_pct AS "lastFill", extract(epoch FROM l.ts) / 86400.0 AS "readDay",
       cur.started AS "cycleStarted", cur.after_emptying AS "afterEmptying", cur.slope AS "curSlope", cur.intercept AS "curIntercept",
       cur.n AS "curN", cur.span_days AS "curSpanDays", cur.full_seen AS "fullSeen",
       hist.rate AS "histRate", hist.days AS "histDays", hist.cycles AS "histCycles", pb.cycles::int AS cycles,
       nx.due_date AS "nextDueDate", nx.starts AS "nextStartsAt"
  FROM per_bin pb
  JOIN bins b ON b.bin_id = pb.bin_id
  JOIN latest l ON l.bin_id = pb.bin_id
  JOIN cycles cur ON cur.bin_id = pb.bin_id AND cur.cycle = pb.current
  LEFT JOIN LATERAL (
    SELECT sum(h.slope * h.span_days) / nullif(sum(h.span_days), 0) AS rate, sum(h.span_days) AS days, count(*)::int AS cycles
      FROM cycles h WHERE h.bin_id = pb.bin_id AND h.cycle <> pb.current AND h.n >= $6 AND h.span_days >= 1 AND h.slope > 0
  ) hist ON true
  LEFT JOIN LATERAL (
    SELECT sc.due_date, ((sc.due_date + rd.starts_at) AT TIME ZONE 'Europe/London') AS starts
      FROM scheduled_collections sc JOIN rounds rd ON rd.round_id = sc.round_id
     WHERE sc.uprn = b.uprn AND sc.stream = b.stream AND NOT sc.cancelled
       AND ((sc.due_date + rd.starts_at) AT TIME ZONE 'Europe/London') > $1::timestamptz
     ORDER BY sc.due_date LIMIT 1
  ) nx ON true
 ORDER BY b.bin_id`

interface Row {
  binId: string
  uprn: number
  stream: string
  capacityL: number | null
  communal: boolean
  readAt: Date
  lastFill: number
  readDay: number
  cycleStarted: Date
  afterEmptying: boolean
  curSlope: number | null
  curIntercept: number | null
  curN: number
  curSpanDays: number | null
  fullSeen: Date | null
  histRate: number | null
  histDays: number | null
  histCycles: number | null
  cycles: number
  nextDueDate: string | null
  nextStartsAt: Date | null
}


const round1 = (v: number) => Math.round(v * 10) / 10

/** Forecast every sensor bin (or the given ones) as their readings stand at `now`. */
export async function forecastBins(db: Queryable, now: Date, binIds?: readonly string[]): Promise<BinForecast[]> {
  const { rows } = await db.query<Row>(FORECAST_SQL, [now, binIds ?? null, EMPTY_DROP, EMPTY_BELOW, CLAMPED_AT, MIN_CYCLE_READINGS])
  const out = rows.map(forecastOf)
  // High use: the top decile of rates of the stream.
  const byStream = new Map<string, number[]>()
  for (const f of out) if (f.ratePctPerDay !== null) byStream.set(f.stream, [...(byStream.get(f.stream) ?? []), f.ratePctPerDay])
  const p90 = new Map([...byStream].map(([s, v]) => [s, v.sort((a, b) => a - b)[Math.floor(v.length * 0.9)] ?? Infinity]))
  for (const f of out) {
    f.highUse = f.ratePctPerDay !== null && (f.ratePctPerDay >= (p90.get(f.stream) ?? Infinity) || 100 / f.ratePctPerDay < HIGH_USE_DAYS)
    f.priority = f.communal ? 1 : f.highUse ? 2 : 3
  }
  return out
}

function forecastOf(r: Row): BinForecast {
  const curUsable = r.curSlope !== null && r.curN >= MIN_CYCLE_READINGS && (r.curSpanDays ?? 0) >= 1 && r.curSlope > 0
  const histUsable = r.histRate !== null && r.histRate > 0
  let rate: number | null = null
  let basis: BinForecast['basis'] = 'none'
  if (curUsable && histUsable) {
    rate = (r.histRate! * r.histDays! + r.curSlope! * r.curSpanDays!) / (r.histDays! + r.curSpanDays!)
    basis = 'blended'
  } else if (histUsable) {
    rate = r.histRate
    basis = 'history'
  } else if (curUsable) {
    rate = r.curSlope
    basis = 'current'
  }
  // Fill now: the current cycle's fitted line at the last reading, once it has run a day.
  const fitted = curUsable ? r.curIntercept! + r.curSlope! * r.readDay : null
  const fill = r.fullSeen ? Math.max(CLAMPED_AT, r.lastFill) : Math.min(100, Math.max(0, fitted !== null && r.lastFill < CLAMPED_AT ? fitted : r.lastFill))
  let fullAt: Date | null = null
  if (r.fullSeen) fullAt = r.fullSeen
  else if (rate !== null) fullAt = new Date(r.readAt.getTime() + ((100 - fill) / rate) * DAY_MS)
  const fillAtNext = r.nextStartsAt && rate !== null ? fill + rate * Math.max(0, (r.nextStartsAt.getTime() - r.readAt.getTime()) / DAY_MS) : null
  const overflow = fullAt !== null && r.nextStartsAt !== null && fullAt.getTime() < r.nextStartsAt.getTime()
  return {
    binId: r.binId, uprn: r.uprn, stream: r.stream, capacityL: r.capacityL, communal: r.communal || (r.capacityL ?? 0) >= COMMUNAL_LITRES, highUse: false,
    fillPct: round1(fill), readAt: r.readAt, lastEmptiedAt: r.afterEmptying ? r.cycleStarted : null,
    ratePctPerDay: rate === null ? null : Math.round(rate * 100) / 100, fullAt, nextDueDate: r.nextDueDate, nextCollectionAt: r.nextStartsAt,
    fillAtNextPct: fillAtNext === null ? null : round1(fillAtNext), overflow, cycles: r.cycles, basis, priority: 3,
  }
}

/** Replace the stored forecasts with these (the list API reads them). */
export async function storeForecasts(db: Queryable, forecasts: readonly BinForecast[], now: Date): Promise<number> {
  if (forecasts.length === 0) return 0
  let written = 0
  for (let i = 0; i < forecasts.length; i += 5000) {
    const { rowCount } = await db.query(
      `INSERT INTO bin_forecasts AS f (bin_id, uprn, stream, capacity_l, communal, high_use, fill_pct, read_at, last_emptied_at, rate_pct_per_day, full_at,
                                       next_due_date, next_collection_at, fill_at_next_pct, overflow, cycles, basis, priority, forecast_at)
       SELECT x."binId", x.uprn, x.stream, x."capacityL", x.communal, x."highUse", x."fillPct", x."readAt", x."lastEmptiedAt", x."ratePctPerDay", x."fullAt",
              x."nextDueDate", x."nextCollectionAt", x."fillAtNextPct", x.overflow, x.cycles, x.basis, x.priority, $2
         FROM jsonb_to_recordset($1::jsonb) AS x("binId" text, uprn bigint, stream text, "capacityL" int, communal boolean, "highUse" boolean, "fillPct" real,
              "readAt" timestamptz, "lastEmptiedAt" timestamptz, "ratePctPerDay" real, "fullAt" timestamptz, "nextDueDate" date, "nextCollectionAt" timestamptz,
              "fillAtNextPct" real, overflow boolean, cycles int, basis text, priority int)
       ON CONFLICT (bin_id) DO UPDATE SET uprn = EXCLUDED.uprn, stream = EXCLUDED.stream, capacity_l = EXCLUDED.capacity_l, communal = EXCLUDED.communal,
              high_use = EXCLUDED.high_use, fill_pct = EXCLUDED.fill_pct, read_at = EXCLUDED.read_at, last_emptied_at = EXCLUDED.last_emptied_at,
              rate_pct_per_day = EXCLUDED.rate_pct_per_day, full_at = EXCLUDED.full_at, next_due_date = EXCLUDED.next_due_date,
              next_collection_at = EXCLUDED.next_collection_at, fill_at_next_pct = EXCLUDED.fill_at_next_pct, overflow = EXCLUDED.overflow,
              cycles = EXCLUDED.cycles, basis = EXCLUDED.basis, priority = EXCLUDED.priority, forecast_at = EXCLUDED.forecast_at`,
      [JSON.stringify(forecasts.slice(i, i + 5000)), now],
    )
    written += rowCount
  }
  return written
}
