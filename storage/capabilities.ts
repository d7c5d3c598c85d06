// What the database offers: TimescaleDB full edition, Apache edition, or plain PostgreSQL.
// Managed services often run the Apache edition (no compression, continuous aggregates or policy
// jobs) or no TimescaleDB at all; Kerbside degrades to its own roll-ups and retention there.
import type { Capabilities, Queryable, Tier } from './database.ts'

export const TIERS: readonly Tier[] = ['timescaledb', 'timescaledb-apache', 'postgresql']

/**
 * Create the extension when it is available, then read what we got. `ceiling` caps the tier
 * (for testing the lower tiers on a database that offers more, or to opt out of a feature).
 */
export async function detectCapabilities(db: Queryable, ceiling: Tier = 'timescaledb'): Promise<Capabilities> {
  const { rows: ver } = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v")
  const serverVersion = ver[0]?.v ?? 'unknown'
  let timescaleVersion: string | null = null
  let license: string | null = null
  if (ceiling !== 'postgresql') {
    const { rows: avail } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'timescaledb'`)
    if ((avail[0]?.n ?? 0) > 0) {
      // May fail without the privilege to create extensions; then we stay on plain PostgreSQL.
      await db.query('CREATE EXTENSION IF NOT EXISTS timescaledb').catch(() => undefined)
    }
    const { rows } = await db.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'timescaledb'`)
    timescaleVersion = rows[0]?.v ?? null
    if (timescaleVersion) {
      const { rows: lic } = await db.query<{ l: string | null }>(`SELECT current_setting('timescaledb.license', true) AS l`)
      license = lic[0]?.l ?? null
    }
  }
  let tier: Tier = 'postgresql'
  if (timescaleVersion) tier = license === 'apache' || ceiling === 'timescaledb-apache' ? 'timescaledb-apache' : 'timescaledb'
  const full = tier === 'timescaledb'
  return {
    tier,
    hypertables: tier !== 'postgresql',
    continuousAggregates: full,
    compression: full,
    retentionPolicies: full,
    serverVersion,
    timescaleVersion,
  }
}
