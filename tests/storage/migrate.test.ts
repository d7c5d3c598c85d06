// Migrations by tier, on the embedded engine (which offers the full TimescaleDB edition, so the
// lower tiers are reached with a tier ceiling, exactly as an operator would with DATABASE_TIER).
import { mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import { detectCapabilities } from '../../storage/capabilities.ts'
import { migrate, MigrationError, MIGRATIONS_DIR, listMigrations } from '../../storage/migrate.ts'
import { createPgliteDatabase } from '../../storage/pglite-adapter.ts'
import { openDatabase } from '../../storage/open-database.ts'

const dirs: string[] = []
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'kerbside-mig-')); dirs.push(d); return d }
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

describe('tiers', () => {
  test.each([
    ['timescaledb', true, true],
    ['timescaledb-apache', true, false],
    ['postgresql', false, false],
  ] as const)('%s: hypertables %s, continuous aggregates %s', async (tier, hyper, cagg) => {
    const db = await openDatabase({ logger: silentLogger, tierCeiling: tier })
    try {
      expect(db.capabilities).toMatchObject({ tier, hypertables: hyper, continuousAggregates: cagg, compression: cagg, retentionPolicies: cagg })
      const hypertables = hyper ? (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM timescaledb_information.hypertables`)).rows[0]!.n : 0
      expect(hypertables).toBe(hyper ? 3 : 0)
      const { rows } = await db.query<{ relkind: string }>(`SELECT c.relkind FROM pg_class c WHERE c.relname = 'bin_readings_hourly'`)
      expect(rows[0]?.relkind).toBe(cagg ? 'v' : 'r') // a continuous aggregate is a view; the own roll-up a table
      const applied = (await db.query<{ file: string }>(`SELECT file FROM kerbside_migrations ORDER BY file`)).rows.map((r) => r.file)
      expect(applied.some((f) => f.includes('.full.'))).toBe(cagg)
      expect(applied.some((f) => f.includes('.no-full.'))).toBe(!cagg)
    } finally {
      await db.close()
    }
  })
})

describe('migrations', () => {
  test('run once and are recorded; a second start applies nothing', async () => {
    const db = await createPgliteDatabase()
    try {
      const caps = await detectCapabilities(db)
      const first = await migrate(db, caps)
      expect(first.applied.length).toBe(listMigrations().filter((m) => !m.file.includes('.no-full.')).length)
      expect((await migrate(db, caps)).applied).toEqual([])
    } finally {
      await db.close()
    }
  })

  test('a failing migration is rolled back and stops start-up with a clear error', async () => {
    const dir = tmp()
    cpSync(MIGRATIONS_DIR, dir, { recursive: true })
    writeFileSync(join(dir, '999_broken.sql'), `CREATE TABLE half_done (id int);\nSELECT no_such_function();`)
    const db = await createPgliteDatabase()
    try {
      const caps = await detectCapabilities(db)
      const err = await migrate(db, caps, dir).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(MigrationError)
      expect((err as Error).message).toMatch(/999_broken\.sql failed and was rolled back: .*no_such_function/)
      expect((await db.query(`SELECT to_regclass('half_done') AS t`)).rows[0]).toEqual({ t: null })
      expect((await db.query(`SELECT count(*)::int AS n FROM kerbside_migrations WHERE file = '999_broken.sql'`)).rows[0]).toEqual({ n: 0 })
    } finally {
      await db.close()
    }
  })

  test('an applied migration that was edited is refused', async () => {
    const dir = tmp()
    cpSync(MIGRATIONS_DIR, dir, { recursive: true })
    const db = await createPgliteDatabase()
    try {
      const caps = await detectCapabilities(db)
      await migrate(db, caps, dir)
      writeFileSync(join(dir, '006_api_keys.sql'), '-- edited\nSELECT 1;')
      await expect(migrate(db, caps, dir)).rejects.toThrow(/006_api_keys\.sql changed after it was applied/)
    } finally {
      await db.close()
    }
  })

  test('a database set up on one tier is not silently reused on another', async () => {
    const dataDir = tmp()
    const first = await openDatabase({ logger: silentLogger, dataDir, tierCeiling: 'postgresql' })
    await first.close()
    await expect(openDatabase({ logger: silentLogger, dataDir, tierCeiling: 'timescaledb' })).rejects.toThrow(/set up for the postgresql tier but now offers timescaledb/)
  })
})
