// Open the configured database: PGlite embedded when DATABASE_URL is unset, else a pg pool.
// Detects the tier, runs migrations and logs both; a failed migration throws MigrationError.
import { join } from 'node:path'
import type { Logger } from '../core/log.ts'
import { detectCapabilities } from './capabilities.ts'
import type { Database, Tier } from './database.ts'
import { migrate } from './migrate.ts'
import { createPgDatabase } from './pg-adapter.ts'
import { createPgliteDatabase } from './pglite-adapter.ts'

export interface OpenDatabaseOptions {
  /** postgres://… of a server; undefined = embedded PGlite. */
  url?: string
  /** Embedded data folder; undefined with no url = in-memory (tests). */
  dataDir?: string
  poolSize?: number
  /** Highest tier to use even if the database offers more. */
  tierCeiling?: Tier
  logger: Logger
  /** Run migrations (the default). Services that share one database may leave it to one of them. */
  migrate?: boolean
  /** Embedded only: flush commits to the device (fdatasync), default true; see storage/pglite-fsync.ts. */
  embeddedFsync?: boolean
  /** Embedded only: refuse to start below this much free space (default 64 MiB, storage/disk-space.ts). */
  embeddedMinFreeBytes?: number
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  // Each phase is timed in the log: a start that takes long says where the time went.
  const started = performance.now()
  const db = opts.url
    ? createPgDatabase({ connectionString: opts.url, poolSize: opts.poolSize, logger: opts.logger })
    : await createPgliteDatabase({
      dataDir: opts.dataDir ? join(opts.dataDir, 'pgdata') : undefined,
      fsync: opts.embeddedFsync,
      minFreeBytes: opts.embeddedMinFreeBytes,
      logger: opts.logger,
    })
  const opened = performance.now()
  try {
    db.capabilities = await detectCapabilities(db, opts.tierCeiling)
    const detected = performance.now()
    const { tier, serverVersion, timescaleVersion } = db.capabilities
    opts.logger.info({ adapter: db.kind, tier, serverVersion, timescaleVersion }, `database tier: ${tier}`)
    if (opts.migrate !== false) {
      const report = await migrate(db, db.capabilities)
      if (report.applied.length > 0) opts.logger.info({ applied: report.applied }, `applied ${report.applied.length} migration(s)`)
    }
    const ms = (a: number, b: number) => Math.round(b - a)
    const done = performance.now()
    opts.logger.info({ openMs: ms(started, opened), capabilitiesMs: ms(opened, detected), migrationsMs: ms(detected, done) }, `database ready in ${ms(started, done)} ms`)
    return db
  } catch (err) {
    await db.close().catch(() => undefined)
    throw err
  }
}
