// The load generator in its own process for the benchmarks: options as JSON in argv[2], or in a file
// named by argv[2] as @path (and, in argv[3], a first seq for every device, since a function cannot
// cross the process boundary); the report (without its per-message functions) as JSON on stdout.
// The report also carries, so that the parent can work with them across processes: `progress`, the
// count acknowledged about once a second (for a rate over the middle of the run), and `ackedRanges`,
// each device's acknowledged seqs as [first, last] runs (to check that every one was stored).
import { readFileSync } from 'node:fs'
import { runLoad, type LoadOptions } from '../simulators/load-generator.ts'

const arg = process.argv[2]!
const opts = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg) as LoadOptions
const firstSeq = process.argv[3] ? Number(process.argv[3]) : undefined
const progress: { ms: number; acked: number }[] = []
const report = await runLoad({
  ...opts,
  ...(firstSeq ? { startSeq: () => firstSeq } : {}),
  onProgress: (p) => progress.push({ ms: Math.round(p.elapsedMs), acked: p.acked }),
})
const ackedRanges: Record<string, [number, number][]> = {}
for (const { deviceId, seq } of report.acknowledged()) {
  const runs = (ackedRanges[deviceId] ??= [])
  const last = runs[runs.length - 1]
  if (last && last[1] === seq - 1) last[1] = seq
  else runs.push([seq, seq])
}
const { wasAcked: _w, acknowledged: _a, seqRange: _s, ...summary } = report
process.stdout.write(JSON.stringify({ ...summary, progress, ackedRanges }))
process.exit(0)
