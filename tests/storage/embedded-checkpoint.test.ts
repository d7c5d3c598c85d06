// Regression: PGlite runs PostgreSQL in single-user mode, which never checkpoints by itself, so the
// WAL since the start grew without bound (101 MB after 200,000 readings) and a restart after a kill
// replayed all of it. The adapter now checkpoints once the WAL since the last checkpoint passes a bound.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { createPgliteDatabase } from '../../storage/pglite-adapter.ts'

test('the embedded database checkpoints by itself, so the WAL to replay after a kill stays bounded', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kerbside-checkpoint-'))
  const db = await createPgliteDatabase({ dataDir, fsync: false, checkpointWalBytes: 2 * 1024 * 1024, checkpointCheckMs: 0 })
  try {
    const walSinceCheckpoint = async () => (await db.query<{ b: number }>('SELECT (pg_current_wal_lsn() - redo_lsn)::float8 AS b FROM pg_control_checkpoint()')).rows[0]!.b
    await db.exec('CREATE TABLE wal_probe (n int, pad text)')
    let written = 0
    for (let i = 0; i < 30; i++) {
      const before = await walSinceCheckpoint()
      await db.query(`INSERT INTO wal_probe SELECT g, repeat('x', 200) FROM generate_series(1, 2000) AS g`)
      written += Math.max(0, (await walSinceCheckpoint()) - before)
    }
    await db.query('SELECT 1') // let a checkpoint queued behind the last insert run
    const left = await walSinceCheckpoint()
    console.error(`embedded checkpoint: ${(written / 1e6).toFixed(1)} MB of WAL written, ${(left / 1e6).toFixed(1)} MB since the last checkpoint at the end`)
    expect(written).toBeGreaterThan(8 * 1024 * 1024) // several times the bound
    expect(left).toBeLessThan(4 * 1024 * 1024)
  } finally {
    await db.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
})
