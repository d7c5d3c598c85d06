// CPU time of processes and of the whole machine from Linux /proc, to say where the cores went
// during a benchmark (which process is the bottleneck). Elsewhere every figure reads NaN.
import { readFileSync } from 'node:fs'

const TICKS_PER_S = 100 // USER_HZ, 100 on every Linux the project targets

/** User + system CPU seconds a process has used so far, or NaN when it cannot be read. */
export function processCpuSeconds(pid: number): number {
  try {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S // utime, stime (fields 14, 15)
  } catch {
    return NaN
  }
}

/** Busy and total CPU seconds of the whole machine (all cores) since boot. */
export function machineCpuSeconds(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    const total = line.reduce((a, b) => a + b, 0)
    const idle = (line[3] ?? 0) + (line[4] ?? 0) // idle, iowait
    return { busy: (total - idle) / TICKS_PER_S, total: total / TICKS_PER_S }
  } catch {
    return { busy: NaN, total: NaN }
  }
}

/**
 * Cores used by named groups of processes over an interval: call `start()`, run the work, then
 * `stop()` gives, per group, CPU seconds divided by wall seconds (1.0 = one core busy), and the whole
 * machine's busy cores. Pids are read when the interval starts and again when it stops, so a group
 * may be given as a function (e.g. the database server's backends of one database).
 */
export function cpuMeter(groups: Record<string, () => number[]>, opts: { startingDuring?: string[] } = {}) {
  let t0 = 0
  let m0 = { busy: 0, total: 0 }
  let before = new Map<string, Map<number, number>>()
  const sample = () => new Map(Object.entries(groups).map(([name, pids]) => [name, new Map(pids().map((p) => [p, processCpuSeconds(p)]))]))
  return {
    start() {
      t0 = performance.now()
      m0 = machineCpuSeconds()
      before = sample()
    },
    stop(): { wallS: number; cores: Record<string, number>; machineBusyCores: number } {
      const wallS = (performance.now() - t0) / 1000
      const m1 = machineCpuSeconds()
      const after = sample()
      // Processes seen at the start and gone by the end: their time up to now is unknown, so also left out.
      const cores: Record<string, number> = {}
      for (const [name, pids] of after) {
        let used = 0
        for (const [pid, cpu] of pids) {
          // A process new since the start counts from when first seen; one that has ended (a
          // database's short-lived parallel or autovacuum worker) cannot be read and is left out.
          // In a group named in `startingDuring` (a database's backends, opened on first use), a
          // process first seen at the end started during the interval: all its time counts.
          const was = before.get(name)?.get(pid) ?? (opts.startingDuring?.includes(name) ? 0 : cpu)
          if (Number.isFinite(cpu) && Number.isFinite(was)) used += cpu - was
        }
        cores[name] = used / wallS
      }
      return { wallS, cores, machineBusyCores: (m1.busy - m0.busy) / wallS }
    },
  }
}
