// The benchmark suite's own helpers: percentiles by nearest rank, and the summary written into
// docs/performance.md, which must show a failed benchmark or a lost message rather than hide it.
import { expect, test } from 'vitest'
import { percentiles } from '../../bench/lib.ts'
import { markdownTable, renderSummary, type Outcome } from '../../bench/summary.ts'

test('percentiles are nearest-rank values of the sample', () => {
  const v = Array.from({ length: 100 }, (_, i) => 100 - i) // 100 … 1, unsorted on purpose
  expect(percentiles(v)).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100 })
  expect(percentiles([7])).toMatchObject({ p50: 7, p99: 7, max: 7 })
  expect(Number.isNaN(percentiles([]).p99)).toBe(true)
})

test('a Markdown table has a header, a rule and one line per row', () => {
  expect(markdownTable(['a', 'b'], [['1', '2'], ['3', '4']])).toBe('| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |')
})

const outcome = (o: Partial<Outcome>): Outcome => ({ name: 'x', what: 'what', command: 'npm run bench:x', exitCode: 0, seconds: 1, printed: '', result: null, ...o })

test('a benchmark that printed no result is listed as such, with its exit code', () => {
  const md = renderSummary([outcome({ name: 'queries', what: '(b) queries', exitCode: 1 })])
  expect(md).toContain('### (b) queries')
  expect(md).toContain('No result: the benchmark exited with 1')
})

test('scale-out: messages not all stored once show as "no", and the speed-up is given', () => {
  const run = (workers: number, rate: number, stored: number, workerCpu: number | null = null) => ({
    workers, workerCpu, rate, published: 1000, stored, distinct: stored, perWorker: [stored], cores: { 'ingest workers': 0.5 }, machineBusyCores: 1.5,
  })
  const md = renderSummary([outcome({ name: 'scale-out', what: '(e)', result: { loadStart: '1.0', loadEnd: '2.0', speedup: 1.6, results: [run(1, 1000, 1000), run(2, 1600, 990)] } })])
  expect(md).toContain('| 1 | none | 1,000 msg/s | yes (1,000) |')
  expect(md).toContain('| 2 | none | 1,600 msg/s | **no** (990 of 1,000) |')
  expect(md).toContain('Two workers / one: **1.60 ×**')
  expect(md).toContain('Load average at its start 1.0, at its end 2.0.')
})

test('scale-out with a CPU limit per worker: both ratios, each with what bounded it, read from the CPU figures', () => {
  const run = (workers: number, rate: number, workerCpu: number | null, workerCores: number, machineBusyCores: number) => ({
    workers, workerCpu, rate, published: 1000, stored: 1000, distinct: 1000, perWorker: [1000], cores: { 'ingest workers': workerCores }, machineBusyCores,
  })
  const result = (busyUnlimited: number, limitedWorkerCores: number) => ({
    loadStart: '1.0', loadEnd: '2.0', speedup: 2.02, speedups: { unlimited: 1.26, limited: 2.02 },
    results: [run(1, 12000, null, 0.5, 1.7), run(2, 15100, null, 0.7, busyUnlimited), run(1, 4600, 0.25, 0.25, 0.8), run(2, 9300, 0.25, limitedWorkerCores, 1.4)],
  })
  const bound = renderSummary([outcome({ name: 'scale-out', what: '(e)', result: result(1.95, 0.49) })])
  expect(bound).toContain('| 2 | 0.25 core | 9,300 msg/s | yes (1,000) |')
  expect(bound).toContain('no CPU limit **1.26 ×** (the machine\'s cores the bottleneck: 1.95 of 2 busy)')
  expect(bound).toContain('**2.02 ×** (the workers the bottleneck: each used its whole limit)')
  // Where the figures do not show it, nothing is claimed.
  const unbound = renderSummary([outcome({ name: 'scale-out', what: '(e)', result: result(1.2, 0.3) })])
  expect(unbound).toContain('no CPU limit **1.26 ×**;')
  expect(unbound).not.toContain('bottleneck:')
})

test('ingest: end to end against the ceiling, the targets said met or not, and a lost acknowledged message shown', () => {
  const result = (missing: number) => ({
    loadStart: '1.0', loadEnd: '2.0', generatorAlone: 90_000, ceiling: 30_000, e2ePg: 27_000, e2eEmbedded: 9_000, copy: 120_000, copyEmbedded: 50_000,
    latPgP50: 20, latPgP99: 80, latEmbP50: 40, latEmbP99: 200, acknowledgedMissing: missing, storedTwice: 0,
    cpuCeilingBroker: 0.009, cpuPgBroker: 0.041, cpuPgDatabase: 0.013, cpuEmbedded: 0.189,
  })
  const md = renderSummary([outcome({ name: 'ingest', what: '(a)', result: result(0) })])
  expect(md).toContain('| end to end: PUBACK after the commit | 27,000 msg/s | 9,000 msg/s |')
  expect(md).toContain('| end to end / ceiling | 0.90 × | 0.30 × |')
  expect(md).toContain('end to end on PostgreSQL ≥ 20,000 msg/s met, ≥ 0.9 × the ceiling met; embedded ≥ 10,000 msg/s **not met**')
  expect(md).toContain('< 150 ms embedded **not met**')
  expect(md).toContain('all stored, each once')
  expect(md).toContain('| 0.054 (broker 0.041, PostgreSQL 0.013; ceiling 0.009) | 0.189 (one process) |')
  expect(renderSummary([outcome({ name: 'ingest', what: '(a)', result: result(3) })])).toContain('**3 missing, 0 stored twice**')
})

test('scale-out with broker nodes: a node run that lost an acknowledged message shows "no", and the nodes\' ratio is given', () => {
  const node = (nodes: number, rate: number, found: number, nodeCpu: number | null, nodeCores: number) => ({
    nodes, nodeCpu, rate, check: { acked: 1000, found, missing: 1000 - found, rows: found, distinct: found }, cores: { 'broker nodes': nodeCores, Redis: 0.1 }, machineBusyCores: 1.5,
  })
  const worker = { workers: 1, workerCpu: null, rate: 900, published: 1000, stored: 1000, distinct: 1000, perWorker: [1000], cores: { 'ingest workers': 0.5 }, machineBusyCores: 1.5 }
  const md = renderSummary([outcome({ name: 'scale-out', what: '(e)', result: {
    loadStart: '1.0', loadEnd: '2.0', speedup: NaN, speedups: {}, results: [worker],
    nodes: [node(1, 1000, 1000, 0.25, 0.25), node(2, 1900, 999, 0.25, 0.5)], nodeSpeedups: { limited: 1.9 },
  } })])
  expect(md).toContain('| 1 | 0.25 core | 1,000 msg/s | yes (1,000) | 0.25 | 0.10 |')
  expect(md).toContain('| 2 | 0.25 core | 1,900 msg/s | **no** (999 of 1,000) |')
  expect(md).toContain('Two nodes / one: each node limited to a share of a core **1.90 ×** (the nodes the bottleneck: each used its whole limit).')
  expect(md).toContain('| 1 | none | 900 msg/s | yes (1,000) |')
})
