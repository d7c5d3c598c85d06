// The load generator in its own process for the benchmarks: options as JSON in argv[2], or in a file
// named by argv[2] as @path (and, in
// argv[3], a first seq for every device, since a function cannot cross the process boundary); the
// report (without its per-message functions) as JSON on stdout.
import { readFileSync } from 'node:fs'
import { runLoad, type LoadOptions } from '../simulators/load-generator.ts'

const arg = process.argv[2]!
const opts = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg) as LoadOptions
const firstSeq = process.argv[3] ? Number(process.argv[3]) : undefined
const report = await runLoad(firstSeq ? { ...opts, startSeq: () => firstSeq } : opts)
const { wasAcked: _w, acknowledged: _a, seqRange: _s, ...summary } = report
process.stdout.write(JSON.stringify(summary))
process.exit(0)
