// The load generator in its own process for the benchmarks: options as JSON in argv[2] (and, in
// argv[3], a first seq for every device, since a function cannot cross the process boundary); the
// report (without its per-message functions) as JSON on stdout.
import { runLoad, type LoadOptions } from '../simulators/load-generator.ts'

const opts = JSON.parse(process.argv[2]!) as LoadOptions
const firstSeq = process.argv[3] ? Number(process.argv[3]) : undefined
const report = await runLoad(firstSeq ? { ...opts, startSeq: () => firstSeq } : opts)
const { wasAcked: _w, acknowledged: _a, seqRange: _s, ...summary } = report
process.stdout.write(JSON.stringify(summary))
process.exit(0)
