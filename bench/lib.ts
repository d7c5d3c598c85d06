// Small helpers the benchmarks share: the machine they ran on, free ports, percentiles.
import { createServer } from 'node:net'
import { cpus, totalmem } from 'node:os'

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function machine(): string {
  const c = cpus()
  return `${c[0]?.model ?? 'unknown CPU'} × ${c.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}`
}

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
