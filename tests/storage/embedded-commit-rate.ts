// What a durable commit costs on the embedded database: commits per second of small transactions
// (5 readings each) and of ingest-sized ones (1,000 readings), with the WAL flushed to the device
// at each commit (the default) and without (fsync: false). Prints figures; asserts nothing.
//   node --import tsx tests/storage/embedded-commit-rate.ts [folder]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { migrate } from '../../storage/migrate.ts'
import { detectCapabilities } from '../../storage/capabilities.ts'
import { createPgliteDatabase } from '../../storage/pglite-adapter.ts'

const parent = process.argv[2] ?? tmpdir()
const SECONDS = 5

async function measure(fsync: boolean, rows: number, dataDir: string): Promise<string> {
  const db = await createPgliteDatabase({ dataDir, fsync })
  try {
    db.capabilities = await detectCapabilities(db)
    await migrate(db, db.capabilities)
    const before = { ...db.fsyncStats }
    const base = Date.parse('2026-11-20T00:00:00Z')
    let commits = 0
    let seq = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bin_readings')).rows[0]!.n
    const started = performance.now()
    while (performance.now() - started < SECONDS * 1000) {
      const ids = Array.from({ length: rows }, () => ++seq)
      await db.transaction((tx) => tx.query(
        `INSERT INTO bin_readings (device_id, ts, seq, fill_pct)
         SELECT 'rate', to_timestamp($1::float8 / 1000) + make_interval(secs => s), s, s % 100 FROM unnest($2::bigint[]) AS s`, [base, ids]))
      commits++
    }
    const s = (performance.now() - started) / 1000
    const calls = db.fsyncStats.calls - before.calls
    const ms = db.fsyncStats.ms - before.ms
    return `fsync ${fsync ? 'on ' : 'off'} ${String(rows).padStart(5)} rows/commit: ${(commits / s).toFixed(0).padStart(5)} commits/s, ${(commits * rows / s).toFixed(0).padStart(6)} rows/s; flushes ${calls} (${commits ? (calls / commits).toFixed(1) : 0}/commit, ${calls ? (ms / calls).toFixed(2) : 0} ms each)`
  } finally {
    await db.close()
  }
}

const dataDir = mkdtempSync(join(parent, 'kerbside-commit-rate-'))
try {
  console.error(`load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}; folder ${dataDir}`)
  for (const rows of [5, 1000]) {
    for (const fsync of [false, true]) console.error(await measure(fsync, rows, dataDir))
  }
  console.error(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
