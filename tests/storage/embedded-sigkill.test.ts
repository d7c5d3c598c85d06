// Acknowledged means stored (issue 13): a transaction the embedded database said was committed
// must survive SIGKILL of the process. A child process commits in a loop and prints each id after
// its commit resolved; it is killed mid-stream three times; every printed id must be in the folder.
// The restart time after each kill (open + migrations check) is printed, not asserted.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import { openDatabase } from '../../storage/open-database.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const CHILD = join(import.meta.dirname, 'embedded-sigkill-child.ts')

interface Run { child: ChildProcess; committed: number[]; openedMs: Promise<number>; stderr: string[] }

function startChild(dataDir: string, firstId: number): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, String(firstId)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  const run: Run = { child, committed: [], stderr: [], openedMs: Promise.resolve(NaN) }
  run.openedMs = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [word, ...rest] = line.split(' ')
      if (word === 'opened') resolve(Number(rest[0]))
      else if (word === 'committed') run.committed.push(...rest.map(Number))
    })
    child.stderr!.on('data', (d: Buffer) => run.stderr.push(d.toString()))
    child.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before it opened the database: ${run.stderr.join('')}`)))
  })
  return run
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('every commit the embedded database confirmed survives SIGKILL, three kills in a row', { timeout: 240_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kerbside-sigkill-'))
  try {
    // Set the folder up first, so that the children measure a restart rather than a first start.
    await (await openDatabase({ dataDir, logger: silentLogger })).close()

    const printed: number[] = []
    const restarts: number[] = []
    let next = 1
    for (let kill = 1; kill <= 3; kill++) {
      const run = startChild(dataDir, next)
      restarts.push(await run.openedMs)
      // Kill at a different point of the stream each time, once a few hundred commits went by.
      while (run.committed.length < 200 * kill) {
        if (run.child.exitCode !== null) throw new Error(`child died: ${run.stderr.join('')}`)
        await sleep(20)
      }
      await sleep(37 * kill)
      run.child.kill('SIGKILL')
      await exited(run.child)
      expect(run.child.signalCode).toBe('SIGKILL')
      printed.push(...run.committed)
      next = Math.max(...run.committed) + 100 // ids of the transaction in flight at the kill may or may not be stored
    }

    const started = performance.now()
    const db = await openDatabase({ dataDir, logger: silentLogger })
    const reopenMs = Math.round(performance.now() - started)
    try {
      const { rows } = await db.query<{ seq: number }>(`SELECT seq FROM bin_readings WHERE device_id = 'sigkill'`)
      const stored = new Set(rows.map((r) => r.seq))
      const missing = printed.filter((id) => !stored.has(id))
      console.error(`embedded SIGKILL: ${printed.length} committed ids printed over 3 kills, ${missing.length} missing; restart after a kill (open + migrations check): ${[...restarts.slice(1), reopenMs].join(', ')} ms`)
      expect(printed.length).toBeGreaterThanOrEqual(600)
      expect(missing).toEqual([])
    } finally {
      await db.close()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
})
