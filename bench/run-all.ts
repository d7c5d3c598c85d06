// npm run bench — the whole benchmark suite in one run, one benchmark after another on the same
// machine, and its figures written into docs/performance.md between the markers
// `<!-- bench:begin -->` and `<!-- bench:end -->` (the prose around them is kept).
//
// Each benchmark is its own script and process (bench/<name>.ts, `npm run bench:<name>`), prints its
// tables, and ends with one `JSON {…}` line; this runner passes its output through, collects that
// line for the summary, and puts the printed tables under the command that produced them.
//
//   node --import tsx bench/run-all.ts [--quick] [--only ingest,queries,classify,memory,scale-out] [--out FILE]
// --quick runs every benchmark's smoke size and writes to a file in the temporary folder unless --out
// is given, so that a smoke run never overwrites the published figures.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { loadAverage, machine, progress } from './lib.ts'
import { renderSummary, type Outcome } from './summary.ts'

const ROOT = join(import.meta.dirname, '..')
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, out: { type: 'string' } } })
const quick = values.quick === true
const out = values.out ?? (quick ? join(tmpdir(), 'kerbside-performance.quick.md') : join(ROOT, 'docs', 'performance.md'))

/** The suite, in the order it runs; args are those of the full run. */
const SUITE: { name: string; script: string; args: string[]; what: string }[] = [
  { name: 'ingest', script: 'bench/ingest.ts', args: [], what: '(a) ingest: end to end with PUBACK after commit vs the broker acknowledging without storing vs raw COPY, PostgreSQL and embedded' },
  { name: 'queries', script: 'bench/queries.ts', args: [], what: '(b) query latency at two data sizes ten times apart' },
  // Three simulated days give a busiest collection day with the day before and after it; the
  // script's own default (7) simulates a whole week, twice as long to set up.
  { name: 'classify', script: 'bench/classify-day.ts', args: ['210000', '3'], what: '(c) the daily classification and scoring job, 210,000 households' },
  // The services' memory follows the message rate and connections far more than the registry's
  // size, and installing 210,000 households took 9 minutes on the loaded 2-core machine: 21,000 here.
  { name: 'memory', script: 'bench/memory.ts', args: ['--households', '21000'], what: '(d) memory of each service at steady city load' },
  { name: 'scale-out', script: 'bench/scale-out.ts', args: [], what: '(e) one vs two broker nodes sharing Redis, and one vs two ingest workers on MQTT 5 shared subscriptions' },
]

const only = values.only?.split(',')
const chosen = SUITE.filter((b) => !only || only.includes(b.name))
const startedAt = new Date()
const loadStart = loadAverage()
progress(`benchmark suite${quick ? ' (--quick)' : ''}: ${chosen.map((b) => b.name).join(', ')}; load average ${loadStart}`)

function runOne(b: typeof SUITE[number]): Promise<Outcome> {
  const args = quick ? ['--quick'] : b.args
  const command = `node --import tsx ${b.script}${args.length ? ` ${args.join(' ')}` : ''}`
  progress(`── ${b.name}: ${command}`)
  const t0 = performance.now()
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, b.script), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  proc.stdout.on('data', (d: Buffer) => { stdout += d; process.stdout.write(d) })
  return new Promise((resolve) => proc.once('exit', (code) => {
    const lines = stdout.split('\n')
    const json = lines.findLast((l) => l.startsWith('JSON ')) // a benchmark may print partial results first
    let result: Record<string, unknown> | null = null
    try { result = json ? JSON.parse(json.slice(5)) as Record<string, unknown> : null } catch { result = null }
    resolve({
      name: b.name, what: b.what, startedAt: new Date(Date.now() - (performance.now() - t0)).toISOString(), command: `npm run bench:${b.name}${args.length ? ` -- ${args.join(' ')}` : ''}`, exitCode: code ?? -1,
      seconds: (performance.now() - t0) / 1000, printed: lines.filter((l) => !l.startsWith('JSON ')).join('\n').trim(), result,
    })
  }))
}

const fresh: Outcome[] = []
for (const b of chosen) fresh.push(await runOne(b))
const loadEnd = loadAverage()

// The results also go, as JSON, beside the Markdown file. With --only, the benchmarks not run this
// time keep their previous results from there (each says when it ran and its command), so that one
// benchmark can be rerun without the whole suite; `--only none` renders the page from it alone.
const sidecar = out.replace(/\.md$/, '') + '.json'
const previousRun = only && existsSync(sidecar) ? (JSON.parse(readFileSync(sidecar, 'utf8')) as { outcomes: Outcome[] }).outcomes : []
const outcomes = SUITE.map((b) => fresh.find((o) => o.name === b.name) ?? previousRun.find((o) => o.name === b.name)).filter((o): o is Outcome => o !== undefined)
writeFileSync(sidecar, JSON.stringify({ machine: machine(), outcomes }, null, 2) + '\n')
const kept = outcomes.filter((o) => !fresh.includes(o))

const suiteCommand = `npm run bench${quick || only ? ' --' : ''}${quick ? ' --quick' : ''}${only ? ` --only ${only.join(',')}` : ''}`
const section = [
  `<!-- bench:begin -->`,
  `<!-- Written by \`${suiteCommand}\` (bench/run-all.ts) on ${startedAt.toISOString()}; do not edit between these markers. -->`,
  '',
  fresh.length > 0
    ? `**Run:** \`${suiteCommand}\`, ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${(fresh.reduce((a, o) => a + o.seconds, 0) / 60).toFixed(0)} minutes.  `
    : `**Runs:** ${outcomes.map((o) => `${o.name} ${o.startedAt?.slice(0, 16).replace('T', ' ') ?? '?'} UTC`).join('; ')} (this page rendered from ${relative(ROOT, sidecar)} by \`${suiteCommand}\`).  `,
  `**Machine:** ${machine()}.  `,
  fresh.length > 0
    ? `**Load average** (1, 5, 15 min) at the start ${loadStart}, at the end ${loadEnd}${quick ? '. **Smoke sizes (--quick): not the published figures.**' : '.'}`
    : '**Load average**: see each benchmark below, at its start and end.',
  ...(kept.length > 0 && fresh.length > 0 ? ['', `This run covered ${fresh.map((o) => o.name).join(', ')}; ${kept.map((o) => `${o.name} (${o.startedAt?.slice(0, 16).replace('T', ' ') ?? 'earlier'} UTC)`).join(', ')} kept from the earlier run.`] : []),
  '',
  renderSummary(outcomes),
  '',
  '### Each benchmark as it printed',
  '',
  ...outcomes.flatMap((o) => [
    `#### ${o.what}`,
    '',
    `\`${o.command}\` — started ${o.startedAt?.slice(0, 16).replace('T', ' ') ?? '?'} UTC, ${o.seconds.toFixed(0)} s${o.exitCode === 0 ? '' : `, **exited with ${o.exitCode}**`}`,
    '',
    '```text',
    o.printed,
    '```',
    '',
  ]),
  `<!-- bench:end -->`,
].join('\n')

const previous = existsSync(out) ? readFileSync(out, 'utf8') : ''
const begin = previous.indexOf('<!-- bench:begin -->')
const end = previous.indexOf('<!-- bench:end -->')
const next = begin >= 0 && end > begin
  ? previous.slice(0, begin) + section + previous.slice(end + '<!-- bench:end -->'.length)
  : `# Performance\n\n${section}\n`
writeFileSync(out, next)
progress(`written to ${relative(process.cwd(), out) || out}`)
process.exit(outcomes.every((o) => o.exitCode === 0) ? 0 : 1)
