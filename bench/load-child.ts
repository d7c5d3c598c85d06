// The load generator in its own process for the benchmarks: options as JSON in argv[2], the report
// (without its per-message functions) as JSON on stdout.
import { runLoad, type LoadOptions } from '../simulators/load-generator.ts'

const opts = JSON.parse(process.argv[2]!) as LoadOptions
const report = await runLoad(opts)
const { wasAcked: _w, acknowledged: _a, seqRange: _s, ...summary } = report
process.stdout.write(JSON.stringify(summary))
process.exit(0)
