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
  const run = (workers: number, rate: number, stored: number) => ({
    workers, rate, published: 1000, stored, distinct: stored, perWorker: [stored], cores: { 'ingest workers': 0.5 }, machineBusyCores: 1.5,
  })
  const md = renderSummary([outcome({ name: 'scale-out', what: '(e)', result: { loadStart: '1.0', loadEnd: '2.0', speedup: 1.6, results: [run(1, 1000, 1000), run(2, 1600, 990)] } })])
  expect(md).toContain('| 1 | 1,000 msg/s | yes (1,000) |')
  expect(md).toContain('| 2 | 1,600 msg/s | **no** (990 of 1,000) |')
  expect(md).toContain('Two workers / one: **1.60 ×**')
  expect(md).toContain('Load average at its start 1.0, at its end 2.0.')
})
