// The embedded engine's Emscripten layer makes fdatasync()/fsync() no-ops, so commits were never
// flushed to the device (a power cut could lose them). storage/pglite-fsync.ts routes both to the
// host: PostgreSQL then flushes the WAL at every commit, as on a server. This pins that the flushes
// really happen (a PGlite upgrade that stopped calling them would fail here) and that the opt-out works.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { createPgliteDatabase } from '../../storage/pglite-adapter.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'kerbside-fsync-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const commitTen = async (db: Awaited<ReturnType<typeof createPgliteDatabase>>) => {
  await db.exec('CREATE TABLE IF NOT EXISTS fsync_probe (id int PRIMARY KEY)')
  const before = db.fsyncStats.calls
  for (let i = 0; i < 10; i++) {
    await db.transaction((tx) => tx.query('INSERT INTO fsync_probe (id) VALUES ($1) ON CONFLICT DO NOTHING', [i]))
  }
  return db.fsyncStats.calls - before
}

test('each commit on the embedded database flushes its WAL to the device', async () => {
  const db = await createPgliteDatabase({ dataDir })
  try {
    expect(await commitTen(db)).toBeGreaterThanOrEqual(10)
    // A checkpoint flushes data files and their folders too.
    const before = db.fsyncStats.calls
    await db.exec('CHECKPOINT')
    expect(db.fsyncStats.calls).toBeGreaterThan(before)
  } finally {
    await db.close()
  }
})

test('fsync: false leaves the flushes out', async () => {
  const db = await createPgliteDatabase({ dataDir, fsync: false })
  try {
    expect(await commitTen(db)).toBe(0)
  } finally {
    await db.close()
  }
})
