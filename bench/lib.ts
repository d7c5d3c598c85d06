// Small helpers the benchmarks share: the machine they ran on, free ports, percentiles, the --quick
// flag, progress on long steps, tables, and the one-line JSON result the suite runner collects.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, loadavg, totalmem } from 'node:os'

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function machine(): string {
  const c = cpus()
  return `${c[0]?.model ?? 'unknown CPU'} × ${c.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}`
}

/** The 1, 5 and 15 minute load averages, e.g. "1.9 1.4 0.8": another process on the machine shows here. */
export const loadAverage = () => loadavg().map((l) => l.toFixed(1)).join(' ')

/** `--quick`: a smoke run on small data, seconds instead of minutes. */
export const quick = process.argv.includes('--quick')

export const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number }
    s.close(() => resolve(port))
  })
})

export function percentiles(values: number[]): { count: number; p50: number; p90: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b)
  const at = (p: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!)
  return { count: s.length, p50: at(50), p90: at(90), p99: at(99), max: s.length ? s[s.length - 1]! : NaN }
}

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-GB')

const started = performance.now()
/** A line of progress on stderr, with the seconds since the benchmark started. */
export function progress(message: string): void {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`)
}

/** Run a long step with a progress line before and its duration after; returns the result and ms. */
export async function step<T>(label: string, fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  progress(`${label} …`)
  const t0 = performance.now()
  const value = await fn()
  const ms = performance.now() - t0
  progress(`${label}: ${(ms / 1000).toFixed(1)} s`)
  return { value, ms }
}

/** A plain-text table, columns padded; numbers right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) => r.map((c, i) => (/^[\d.,−-]+( [a-z/%×]+)?$/.test(c) && c !== '-' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n')
}

/** The machine-readable result, one line starting `JSON `, which bench/run-all.ts collects. */
export function emitResult(result: Record<string, unknown>): void {
  console.log(`JSON ${JSON.stringify(result)}`)
}

/** Resident set size of a process in MiB (Linux /proc), or NaN elsewhere. */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : NaN
  } catch {
    return NaN
  }
}
