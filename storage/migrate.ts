// Numbered SQL migrations, run in order at start and recorded in kerbside_migrations.
// A file's name says which database tiers it is for:
//   NNN_name.sql               every tier
//   NNN_name.hypertables.sql   TimescaleDB, full or Apache edition
//   NNN_name.full.sql          TimescaleDB full edition only (compression, continuous aggregates, policies)
//   NNN_name.no-full.sql       every tier except the full edition (Kerbside's own roll-ups instead)
// Each file runs in its own transaction; a failure rolls it back and stops start-up with MigrationError.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Capabilities, Database } from './database.ts'

export const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations')

export class MigrationError extends Error {
  override name = 'KERBSIDE_ERR_MIGRATION'
}

type Variant = 'all' | 'hypertables' | 'full' | 'no-full'

export interface MigrationFile {
  version: number
  name: string
  variant: Variant
  file: string
  sql: string
  checksum: string
}

const FILE_RE = /^(\d{3})_([a-z0-9_]+?)(?:\.(hypertables|full|no-full))?\.sql$/

export function listMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()
  return files.map((file) => {
    const m = FILE_RE.exec(file)
    if (!m) throw new MigrationError(`Migration file ${file} is not named NNN_name[.hypertables|.full|.no-full].sql`)
    const sql = readFileSync(join(dir, file), 'utf8')
    return {
      version: Number(m[1]),
      name: m[2]!,
      variant: (m[3] ?? 'all') as Variant,
      file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex').slice(0, 16),
    }
  })
}

export function appliesTo(variant: Variant, caps: Capabilities): boolean {
  switch (variant) {
    case 'all': return true
    case 'hypertables': return caps.hypertables
    case 'full': return caps.continuousAggregates
    case 'no-full': return !caps.continuousAggregates
  }
}

export interface MigrationReport {
  applied: string[]
  skipped: string[]
}

export async function migrate(db: Database, caps: Capabilities, dir = MIGRATIONS_DIR): Promise<MigrationReport> {
  await db.exec(`CREATE TABLE IF NOT EXISTS kerbside_migrations (
    file        text PRIMARY KEY,
    version     integer NOT NULL,
    checksum    text NOT NULL,
    tier        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
  )`)
  const { rows: tiers } = await db.query<{ tier: string }>('SELECT DISTINCT tier FROM kerbside_migrations')
  const setUpAs = tiers[0]?.tier
  if (setUpAs !== undefined && setUpAs !== caps.tier) {
    throw new MigrationError(`This database was set up for the ${setUpAs} tier but now offers ${caps.tier}. Kerbside does not convert between tiers in place; set DATABASE_TIER=${setUpAs} or migrate the data into a fresh database.`)
  }
  const done = new Map((await db.query<{ file: string; checksum: string }>('SELECT file, checksum FROM kerbside_migrations')).rows.map((r) => [r.file, r.checksum]))
  const report: MigrationReport = { applied: [], skipped: [] }
  for (const m of listMigrations(dir)) {
    if (!appliesTo(m.variant, caps)) {
      report.skipped.push(m.file)
      continue
    }
    const previous = done.get(m.file)
    if (previous !== undefined) {
      if (previous !== m.checksum) throw new MigrationError(`Migration ${m.file} changed after it was applied (checksum ${previous} -> ${m.checksum}). Add a new numbered migration instead of editing an applied one.`)
      continue
    }
    try {
      await db.transaction(async (tx) => {
        await tx.exec(m.sql)
        await tx.query('INSERT INTO kerbside_migrations (file, version, checksum, tier) VALUES ($1, $2, $3, $4)', [m.file, m.version, m.checksum, caps.tier])
      })
    } catch (err) {
      throw new MigrationError(`Migration ${m.file} failed and was rolled back: ${(err as Error).message}. The database is left at the previous migration; fix the cause and start again.`, { cause: err })
    }
    report.applied.push(m.file)
  }
  return report
}
