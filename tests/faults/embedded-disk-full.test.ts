// Disk full under the embedded database (issue 13), on a real small file system: a tmpfs mounted
// for the test. While the database commits in a loop the disk is filled with one big file: writes
// must fail with a recognisable error (KERBSIDE_ERR_DISK_FULL), health must go false, nothing
// committed may be lost, a start on the full disk must say which folder and how much is free, and
// once the file is deleted commits must resume in the same process (the engine restarted inside the
// adapter when PGlite aborted its WebAssembly instance).
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import { DatabaseUnavailableError, type Database } from '../../storage/database.ts'
import { freeBytes } from '../../storage/disk-space.ts'
import { openDatabase } from '../../storage/open-database.ts'

const ROWS_PER_COMMIT = 200
const MIN_FREE = 4 * 1024 * 1024 // the test disk is small; the default threshold is 64 MiB
const base = Date.parse('2026-11-20T00:00:00Z')

function commitBatch(db: Database, first: number): Promise<unknown> {
  const seqs = Array.from({ length: ROWS_PER_COMMIT }, (_, k) => first + k)
  return db.transaction((tx) => tx.query(
    `INSERT INTO bin_readings (device_id, ts, seq, fill_pct)
     SELECT 'disk-' || (s % 20), to_timestamp($1::float8 / 1000) + make_interval(secs => s), s, s % 100 FROM unnest($2::bigint[]) AS s`,
    [base, seqs]))
}

it.skipIf(process.getuid?.() !== 0)('disk full: errors say so, health goes false, nothing committed is lost, commits resume once space is freed (needs root to mount a tmpfs)', async () => {
  const mnt = mkdtempSync(join(tmpdir(), 'kerbside-diskfull-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=80m', 'tmpfs', mnt])
  const filler = join(mnt, 'filler')
  let db: Database | undefined
  try {
    db = await openDatabase({ dataDir: join(mnt, 'kerbside'), logger: silentLogger, embeddedMinFreeBytes: MIN_FREE })
    const committed: number[] = []
    const errors = new Map<string, number>()
    const unhealthy: string[] = []
    let next = 1
    const attempt = async (): Promise<boolean> => {
      const first = next
      next += ROWS_PER_COMMIT // a failed batch's seqs are not reused: nothing of it may appear
      try {
        await commitBatch(db!, first)
        for (let s = first; s < first + ROWS_PER_COMMIT; s++) committed.push(s)
        return true
      } catch (err) {
        const code = err instanceof DatabaseUnavailableError ? err.code : `other: ${(err as Error).message}`
        errors.set(code, (errors.get(code) ?? 0) + 1)
        const h = db!.health!()
        if (!h.ok) unhealthy.push(h.reason ?? '')
        return false
      }
    }

    for (let i = 0; i < 20; i++) expect(await attempt()).toBe(true)
    await db.exec('CREATE TABLE disk_probe (n int); INSERT INTO disk_probe VALUES (0)')
    execFileSync('fallocate', ['-l', String(freeBytes(mnt) - 32 * 1024), filler])

    // Commit until writes fail on the full disk; then make the engine need a new WAL file, which
    // PostgreSQL cannot create: it PANICs and PGlite aborts its WebAssembly instance.
    let failures = 0
    for (let i = 0; i < 400 && failures < 5; i++) if (!(await attempt())) failures++
    expect(failures).toBe(5)
    let aborted = false
    for (let i = 0; i < 60 && !aborted; i++) {
      try {
        await db.query('UPDATE disk_probe SET n = n + 1')
        await db.query('SELECT pg_switch_wal()')
      } catch (err) {
        aborted = /Aborted\(/.test(String(((err as Error).cause as Error | undefined)?.message)) // PGlite's WebAssembly abort
        if (aborted) expect((err as DatabaseUnavailableError).code).toBe('KERBSIDE_ERR_DISK_FULL')
      }
    }
    expect(aborted).toBe(true)
    expect(await attempt()).toBe(false)
    expect(db.health!()).toMatchObject({ ok: false })
    expect(db.health!().reason).toContain('MiB free')

    // A start on the full disk is refused with the folder and its free space, not `Aborted()`.
    const refused = await openDatabase({ dataDir: join(mnt, 'second'), logger: silentLogger }).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(DatabaseUnavailableError)
    expect((refused as DatabaseUnavailableError).code).toBe('KERBSIDE_ERR_DISK_FULL')
    expect((refused as Error).message).toContain(join(mnt, 'second'))
    expect((refused as Error).message).toMatch(/\d+\.\d MiB free.*KERBSIDE_DATA_DIR/s)

    // Free the space: commits resume in this process (the pipeline's retry is what drives this).
    rmSync(filler)
    let resumed = false
    for (let i = 0; i < 10 && !resumed; i++) {
      resumed = await attempt()
      if (!resumed) await new Promise((r) => setTimeout(r, 1_000)) // the adapter waits 5 s between engine restarts
    }
    expect(resumed).toBe(true)
    for (let i = 0; i < 5; i++) expect(await attempt()).toBe(true)
    expect(db.health!()).toEqual({ ok: true })

    const stored = async (d: Database) => new Set((await d.query<{ seq: number }>(`SELECT seq FROM bin_readings WHERE device_id LIKE 'disk-%'`)).rows.map((r) => r.seq))
    let rows = await stored(db)
    const missing = committed.filter((s) => !rows.has(s))
    console.error(`FAULT embedded disk full: ${committed.length} rows committed, ${missing.length} missing, ${rows.size - committed.length} stored from failed commits; failed commits by code ${JSON.stringify(Object.fromEntries(errors))}; readiness reasons seen: ${unhealthy.length}`)
    expect(missing).toEqual([])
    expect(rows.size).toBe(committed.length)
    expect(errors.get('KERBSIDE_ERR_DISK_FULL')).toBeGreaterThan(0)
    expect([...errors.keys()].filter((c) => c.startsWith('other'))).toEqual([])

    // And after a clean restart.
    await db.close()
    db = await openDatabase({ dataDir: join(mnt, 'kerbside'), logger: silentLogger, embeddedMinFreeBytes: MIN_FREE })
    rows = await stored(db)
    expect(committed.filter((s) => !rows.has(s))).toEqual([])
  } finally {
    await db?.close().catch(() => undefined)
    execFileSync('umount', ['-l', mnt])
    rmSync(mnt, { recursive: true, force: true })
  }
})

it('a start refused for lack of space names the folder (any user: the threshold is set above the free space)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kerbside-nospace-'))
  try {
    mkdirSync(dir, { recursive: true })
    const err = await openDatabase({ dataDir: dir, logger: silentLogger, embeddedMinFreeBytes: freeBytes(dir) + 1024 ** 3 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatabaseUnavailableError)
    expect((err as DatabaseUnavailableError).code).toBe('KERBSIDE_ERR_DISK_FULL')
    expect((err as Error).message).toContain(join(dir, 'pgdata'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
