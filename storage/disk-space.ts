// Free space under the embedded database. PGlite on a full disk either fails a write with SQLSTATE
// 53100 or, when PostgreSQL PANICs (a WAL file it cannot create), aborts its whole WebAssembly
// instance with a bare `RuntimeError: Aborted()`; a start on a full disk aborts the same way. So
// Kerbside checks the file system itself and says which folder, how much is free and what to do.
import { existsSync, statfsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { DatabaseUnavailableError } from './database.ts'

/** Below this much free space the embedded database does not start (and a failure is put down to a full disk). */
export const MIN_FREE_BYTES = 64 * 1024 * 1024

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)

/** Bytes an unprivileged process may still write on the file system holding `dir` (or its nearest existing parent). */
export function freeBytes(dir: string): number {
  let at = resolve(dir)
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at)
  const s = statfsSync(at)
  return s.bavail * s.bsize
}

export function diskFullMessage(dir: string, free: number, minFree = MIN_FREE_BYTES): string {
  return `The disk holding the embedded database folder ${resolve(dir)} is full or nearly so: ${mib(free)} MiB free, ` +
    `Kerbside needs at least ${mib(minFree)} MiB. Free space on that disk, or stop Kerbside, move the folder to a larger ` +
    `disk and point KERBSIDE_DATA_DIR at it. Nothing committed so far is lost.`
}

export function diskFullError(dir: string, free: number, minFree = MIN_FREE_BYTES, cause?: unknown): DatabaseUnavailableError {
  return new DatabaseUnavailableError(diskFullMessage(dir, free, minFree), 'KERBSIDE_ERR_DISK_FULL', cause === undefined ? undefined : { cause })
}

/** Throw a disk-full DatabaseUnavailableError when less than `minFree` bytes are free under `dir`. */
export function assertFreeSpace(dir: string, minFree = MIN_FREE_BYTES): void {
  const free = freeBytes(dir)
  if (free < minFree) throw diskFullError(dir, free, minFree)
}
