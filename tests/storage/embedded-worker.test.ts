// The embedded database on a worker thread (storage/pglite-worker-client.ts): callers must not see
// the difference from the in-thread adapter — the same result types, SQL errors with their
// SQLSTATE, transactions that commit or roll back whole — and when the thread ends in the middle of
// a transaction, the caller gets DatabaseUnavailableError, nothing of that transaction is stored,
// everything committed before is, and the next call after the back-off runs on a new thread.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { DatabaseError, DatabaseUnavailableError } from '../../storage/database.ts'
import { createPgliteDatabase, EmbeddedDatabaseBusyError } from '../../storage/pglite-adapter.ts'
import type { PgliteWorkerDatabase } from '../../storage/pglite-worker-client.ts'

const root = mkdtempSync(join(tmpdir(), 'kerbside-worker-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const ROW = `SELECT 9007199254740991::int8 AS big, 1.5::numeric AS num, '2026-12-06T07:00:00Z'::timestamptz AS at,
  '2026-12-06'::date AS day, '{"a":[1,2]}'::jsonb AS doc, '\\x00ff'::bytea AS bytes, NULL::text AS nothing`

test('a data folder runs the engine on a worker thread, with the same result types as on the main thread', async () => {
  const dataDir = join(root, 'types')
  const onWorker = await createPgliteDatabase({ dataDir, fsync: false })
  let fromWorker: Record<string, unknown>
  try {
    expect(onWorker.thread).toBe('worker')
    expect(onWorker.pglite).toBeUndefined()
    fromWorker = (await onWorker.query(ROW)).rows[0]!
  } finally {
    await onWorker.close()
  }
  const inThread = await createPgliteDatabase({ dataDir, fsync: false, worker: false })
  try {
    expect(inThread.thread).toBe('main')
    expect(fromWorker).toEqual((await inThread.query(ROW)).rows[0])
    expect(fromWorker.at).toBeInstanceOf(Date)
    expect(fromWorker.big).toBe(9007199254740991)
    expect(fromWorker.day).toBe('2026-12-06')
  } finally {
    await inThread.close()
  }
})

test('SQL errors keep their SQLSTATE; a failed transaction leaves nothing; the folder lock still holds', async () => {
  const dataDir = join(root, 'errors')
  const db = await createPgliteDatabase({ dataDir, fsync: false })
  try {
    await db.exec('CREATE TABLE probe (id int PRIMARY KEY)')
    await db.query('INSERT INTO probe VALUES (1)')
    const dup = await db.query('INSERT INTO probe VALUES (1)').catch((err: unknown) => err)
    expect(dup).toMatchObject({ code: '23505', message: expect.stringContaining('duplicate key') })

    // A statement's error inside a transaction: the caller sees it, and the transaction rolls back whole.
    const inTx = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO probe VALUES (2)')
      await tx.query('INSERT INTO probe VALUES (1)')
    }).catch((err: unknown) => err)
    expect(inTx).toMatchObject({ code: '23505' })
    // The caller's own error: rolled back, and the caller gets its own error back.
    const own = new Error('changed my mind')
    await expect(db.transaction(async (tx) => { await tx.query('INSERT INTO probe VALUES (3)'); throw own })).rejects.toBe(own)
    expect(await db.transaction(async (tx) => (await tx.query('INSERT INTO probe VALUES (4)')).rowCount)).toBe(1)
    expect((await db.query<{ id: number }>('SELECT id FROM probe ORDER BY id')).rows.map((r) => r.id)).toEqual([1, 4])

    // A second owner of the folder is refused, as with the in-thread adapter.
    await expect(createPgliteDatabase({ dataDir, fsync: false })).rejects.toBeInstanceOf(EmbeddedDatabaseBusyError)
  } finally {
    await db.close()
  }
  await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseError)
})

test('the thread ending mid-transaction: DatabaseUnavailableError, nothing of it stored, committed rows kept, restart after the back-off', async () => {
  const dataDir = join(root, 'crash')
  const db = await createPgliteDatabase({ dataDir, restartBackoffMs: 200 }) as PgliteWorkerDatabase
  try {
    await db.exec('CREATE TABLE probe (id int PRIMARY KEY)')
    await db.transaction((tx) => tx.query('INSERT INTO probe SELECT generate_series(1, 1000)'))
    const failed = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO probe SELECT generate_series(1001, 2000)')
      await db.endThread()
      await tx.query('INSERT INTO probe VALUES (2001)')
    }).catch((err: unknown) => err)
    expect(failed).toBeInstanceOf(DatabaseUnavailableError)
    expect((failed as DatabaseUnavailableError).code).toBe('KERBSIDE_ERR_DATABASE_UNAVAILABLE')
    expect(db.health().ok).toBe(false)

    let count: number | null = null
    for (let i = 0; i < 50 && count === null; i++) {
      count = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM probe').then((r) => r.rows[0]!.n, (err: unknown) => {
        expect(err).toBeInstanceOf(DatabaseUnavailableError) // during the back-off
        return null
      })
      if (count === null) await new Promise((r) => setTimeout(r, 100))
    }
    expect(count).toBe(1000)
    expect(db.health().ok).toBe(true)
  } finally {
    await db.close()
  }
})

test('a batch written on the worker thread in one message: stored, refused and redelivered messages as in-thread, refusals tied to their own items', async () => {
  const { openDatabase } = await import('../../storage/open-database.ts')
  const { silentLogger } = await import('../../core/log.ts')
  const { provisionDevices } = await import('../../storage/devices.ts')
  const { parseTopic } = await import('../../core/contract/topics.ts')
  const { commitBatch } = await import('../../ingest/write-batch.ts')
  const db = await openDatabase({ dataDir: join(root, 'batch'), embeddedFsync: false, logger: silentLogger })
  try {
    expect((db as PgliteWorkerDatabase).thread).toBe('worker')
    await provisionDevices(db, [{ deviceId: 'w-1', kind: 'bin', secretHash: '!' }])
    const item = (device: string, seq: number, fillPct: unknown) => {
      const topic = `kerbside/v1/bins/${device}/reading`
      const body = { seq, ts: new Date(Date.UTC(2026, 11, 6, 7, 0, seq)).toISOString(), fillPct }
      return { topic, payload: Buffer.from(JSON.stringify(body)), receivedAt: new Date(), parsed: parseTopic(topic), result: { ok: true as const, message: { kind: 'reading' as const, body: body as { seq: number; ts: string; fillPct: number } } } }
    }
    const first = [item('w-1', 1, 10), item('unknown-1', 1, 20), item('w-1', 2, 30)]
    const stats = await commitBatch(db, first)
    expect(stats.stored.reading).toBe(2)
    expect([...stats.refusedItems.keys()]).toEqual([first[1]])
    expect(stats.refusedItems.get(first[1]!)?.reason).toBe('unknown_device')
    // The refused payload is quarantined whole (a Buffer again on the worker side, not "1,2,3").
    const q = (await db.query<{ payload: Uint8Array }>(`SELECT payload FROM quarantine WHERE device_id = 'unknown-1'`)).rows[0]!
    expect(Buffer.from(q.payload).toString()).toBe(first[1]!.payload.toString())
    const again = await commitBatch(db, [item('w-1', 2, 30), item('w-1', 3, 40)])
    expect({ stored: again.stored.reading, duplicates: again.duplicates, refused: again.refusedItems.size }).toEqual({ stored: 1, duplicates: 1, refused: 0 })
    expect((await db.query<{ seq: number }>(`SELECT seq FROM bin_readings WHERE device_id = 'w-1' ORDER BY seq`)).rows.map((r) => r.seq)).toEqual([1, 2, 3])
  } finally {
    await db.close()
  }
})
