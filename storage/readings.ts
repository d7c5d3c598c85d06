// Reading queries: raw readings of a device, and bucketed aggregates.
// Aggregates come from the hourly roll-up wherever the bucket is a whole number of hours: the
// continuous aggregate on the full TimescaleDB edition, or Kerbside's own roll-up table elsewhere,
// topped up with raw readings after the roll-up's watermark. Every tier gives the same answer.
import type { Database, Queryable } from './database.ts'

export interface Reading {
  ts: Date
  seq: number
  fillPct: number
  tempC: number | null
  batteryV: number | null
  status: string | null
  binId: string | null
  uprn: number | null
}

export async function readingsOf(db: Queryable, deviceId: string, from: Date, to: Date, limit: number): Promise<Reading[]> {
  const { rows } = await db.query<Reading>(
    `SELECT ts, seq, fill_pct AS "fillPct", temp_c AS "tempC", battery_v AS "batteryV", status, bin_id AS "binId", uprn
       FROM bin_readings WHERE device_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts, seq LIMIT $4`,
    [deviceId, from.toISOString(), to.toISOString(), limit],
  )
  return rows
}

export interface ReadingBucket {
  bucket: Date
  n: number
  fillAvg: number
  fillMin: number
  fillMax: number
  tempMax: number | null
  batteryMin: number | null
}

const HOUR = 3_600_000

/** Round a number of double precision to 6 decimals so that sums taken in a different order agree. */
const SELECT_BUCKETS = (source: string) => `
  SELECT date_bin(make_interval(secs => $4::double precision), bucket, 'epoch'::timestamptz) AS bucket,
         sum(n)::bigint AS n,
         round((sum(fill_sum) / sum(n))::numeric, 6)::double precision AS "fillAvg",
         min(fill_min)::double precision AS "fillMin",
         max(fill_max)::double precision AS "fillMax",
         max(temp_max)::double precision AS "tempMax",
         min(battery_min)::double precision AS "batteryMin"
    FROM (${source}) s
   GROUP BY 1 ORDER BY 1`

const RAW_HOURLY = (fromParam: string, toParam: string) => `
  SELECT date_bin(INTERVAL '1 hour', ts, 'epoch'::timestamptz) AS bucket, count(*) AS n, sum(fill_pct)::double precision AS fill_sum,
         min(fill_pct) AS fill_min, max(fill_pct) AS fill_max, max(temp_c) AS temp_max, min(battery_v) AS battery_min
    FROM bin_readings WHERE device_id = $1 AND ts >= ${fromParam} AND ts < ${toParam}
   GROUP BY 1`

export async function readingAggregates(db: Database, deviceId: string, from: Date, to: Date, bucketSeconds: number): Promise<ReadingBucket[]> {
  const bucketMs = bucketSeconds * 1000
  // Align the range to whole buckets so that a bucket is never half-counted.
  const start = new Date(Math.floor(from.getTime() / bucketMs) * bucketMs)
  const end = new Date(Math.ceil(to.getTime() / bucketMs) * bucketMs)
  const params = [deviceId, start.toISOString(), end.toISOString(), bucketSeconds]
  let source: string
  if (bucketMs % HOUR !== 0) {
    source = `SELECT date_bin(make_interval(secs => $4::double precision), ts, 'epoch'::timestamptz) AS bucket, 1 AS n, fill_pct::double precision AS fill_sum,
                     fill_pct AS fill_min, fill_pct AS fill_max, temp_c AS temp_max, battery_v AS battery_min
                FROM bin_readings WHERE device_id = $1 AND ts >= $2 AND ts < $3`
  } else if (db.capabilities.continuousAggregates) {
    // Real-time continuous aggregate: materialised hours plus the newest raw ones.
    source = `SELECT bucket, n, fill_sum, fill_min, fill_max, temp_max, battery_min FROM bin_readings_hourly WHERE device_id = $1 AND bucket >= $2 AND bucket < $3`
  } else {
    source = `
      SELECT bucket, n, fill_sum, fill_min, fill_max, temp_max, battery_min FROM bin_readings_hourly
       WHERE device_id = $1 AND bucket >= $2 AND bucket < least($3::timestamptz, (SELECT rolled_up_to FROM rollup_state WHERE name = 'bin_readings_hourly'))
      UNION ALL
      ${RAW_HOURLY(`greatest($2::timestamptz, (SELECT rolled_up_to FROM rollup_state WHERE name = 'bin_readings_hourly'))`, '$3')}`
  }
  const { rows } = await db.query<ReadingBucket>(SELECT_BUCKETS(source), params)
  return rows
}

/**
 * Bring the hourly roll-up up to date with every complete hour, including hours that late readings
 * changed. On the full edition this refreshes the continuous aggregate (TimescaleDB recomputes only
 * what its invalidation log marks); elsewhere it rolls up new hours past the watermark and re-rolls
 * the hours listed in rollup_invalidations. Idempotent; safe to run at any time.
 */
export async function refreshReadingsRollup(db: Database, opts: { now?: Date } = {}): Promise<{ hours: number }> {
  const now = opts.now ?? new Date()
  const upTo = new Date(Math.floor(now.getTime() / HOUR) * HOUR) // only complete hours
  if (db.capabilities.continuousAggregates) {
    await db.query(`CALL refresh_continuous_aggregate('bin_readings_hourly', NULL, $1::timestamptz)`, [upTo.toISOString()])
    return { hours: -1 }
  }
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ rolledUpTo: Date }>(`SELECT rolled_up_to AS "rolledUpTo" FROM rollup_state WHERE name = 'bin_readings_hourly' FOR UPDATE`)
    const watermark = rows[0]!.rolledUpTo
    // Hours to (re)compute: those late readings invalidated below the watermark, and every hour
    // from the watermark (or the first reading, on the first run) up to the last complete hour.
    const { rows: stale } = await tx.query<{ bucket: Date }>(
      `DELETE FROM rollup_invalidations WHERE name = 'bin_readings_hourly' AND bucket < $1 RETURNING bucket`, [watermark.toISOString()])
    const fromMs = watermark.getTime() === 0
      ? ((await tx.query<{ min: Date | null }>(`SELECT min(ts) AS min FROM bin_readings`)).rows[0]?.min ?? upTo).getTime()
      : watermark.getTime()
    const from = new Date(Math.floor(Math.min(fromMs, upTo.getTime()) / HOUR) * HOUR)
    const ranges: [Date, Date][] = [[from, upTo], ...stale.map((s): [Date, Date] => [s.bucket, new Date(s.bucket.getTime() + HOUR)])]
    let hours = 0
    for (const [a, b] of ranges) {
      if (b <= a) continue
      await tx.query(`DELETE FROM bin_readings_hourly WHERE bucket >= $1 AND bucket < $2`, [a.toISOString(), b.toISOString()])
      await tx.query(
        `INSERT INTO bin_readings_hourly (device_id, bucket, n, fill_sum, fill_min, fill_max, temp_max, battery_min)
         SELECT device_id, date_bin(INTERVAL '1 hour', ts, 'epoch'::timestamptz), count(*), sum(fill_pct)::double precision, min(fill_pct), max(fill_pct), max(temp_c), min(battery_v)
           FROM bin_readings WHERE ts >= $1 AND ts < $2 GROUP BY 1, 2`,
        [a.toISOString(), b.toISOString()],
      )
      hours += (b.getTime() - a.getTime()) / HOUR
    }
    await tx.query(`UPDATE rollup_state SET rolled_up_to = greatest(rolled_up_to, $1::timestamptz) WHERE name = 'bin_readings_hourly'`, [upTo.toISOString()])
    return { hours }
  })
}

/** Record hours that late readings touched (own-roll-up tiers only; see rollup_invalidations). */
export async function invalidateRollupHours(tx: Queryable, readingTimes: readonly Date[], now = new Date()): Promise<void> {
  const currentHour = Math.floor(now.getTime() / HOUR) * HOUR
  const hours = [...new Set(readingTimes.map((t) => Math.floor(t.getTime() / HOUR) * HOUR).filter((h) => h < currentHour))]
  if (hours.length === 0) return
  await tx.query(
    `INSERT INTO rollup_invalidations (name, bucket) SELECT 'bin_readings_hourly', unnest($1::timestamptz[]) ON CONFLICT DO NOTHING`,
    [hours.map((h) => new Date(h).toISOString())],
  )
}
