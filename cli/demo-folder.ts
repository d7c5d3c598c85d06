// The demo's data folder and its marker file. The folder is kept across restarts (users, keys and
// history made in it survive) unless the demo is started with --reset; a folder that is not a demo's
// is never deleted. The marker records what the next start needs to carry on the same city: its seed,
// size and first day, the secret its simulated devices log in with, the demo user's password (a demo
// only: printed in the banner anyway), how far the simulation got, and, while a demo runs, its process
// and API port, so that the CLI can find it (demo-locate.ts).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const MARKER = 'kerbside-demo.json'

export interface DemoMarker {
  createdAt: string
  note: string
  city?: { seed: number; households: number; start: string }
  deviceSecret?: string
  demoUser?: { username: string; password: string }
  /** Simulated time reached, ms since the epoch. */
  simulatedUntil?: number
  running?: { pid: number; httpUrl: string; mqttUrl: string; startedAt: string }
}

export class DemoFolderError extends Error {
  override name = 'KERBSIDE_ERR_DEMO_FOLDER'
}

export function readMarker(dir: string): DemoMarker | null {
  const file = join(dir, MARKER)
  if (!existsSync(file)) return null
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DemoMarker
  } catch {
    return null
  }
}

/** Written whole to a temporary file and renamed, so a crash never leaves half a marker. */
export function writeMarker(dir: string, marker: DemoMarker): void {
  const file = join(dir, MARKER)
  writeFileSync(`${file}.tmp`, JSON.stringify(marker, null, 2), { mode: 0o600 })
  renameSync(`${file}.tmp`, file)
}

/** Make sure `dir` is a demo folder: created if missing or empty, emptied first with `reset`. Returns its marker. */
export function prepareDemoFolder(dir: string, opts: { reset: boolean }): DemoMarker {
  const used = existsSync(dir) && readdirSync(dir).length > 0
  const marker = used ? readMarker(dir) : null
  if (used && !marker) throw new DemoFolderError(`${dir} exists and is not a demo folder; choose another with --data-dir`)
  if (marker?.running && processAlive(marker.running.pid) && marker.running.pid !== process.pid) {
    throw new DemoFolderError(`a demo is already running in ${dir} (process ${marker.running.pid}, ${marker.running.httpUrl}); stop it first (Ctrl-C in its terminal)`)
  }
  // A folder from an older demo (its marker names no city; it was wiped at every start) is started afresh.
  const older = marker !== null && !marker.city && readdirSync(dir).some((f) => f !== MARKER)
  if (marker && !opts.reset && !older) return marker
  if (used) rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const fresh: DemoMarker = { createdAt: new Date().toISOString(), note: 'kerbside demo data; kept across restarts, deleted by kerbside demo --reset' }
  writeMarker(dir, fresh)
  return fresh
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
