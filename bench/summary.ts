// The suite's summary for docs/performance.md: the headline figures of each benchmark, as Markdown
// tables, from the `JSON {…}` line each one prints. A benchmark that failed or printed no result is
// listed as such, never left out.

export interface Outcome {
  name: string
  what: string
  command: string
  /** When it started (ISO 8601). */
  startedAt?: string
  exitCode: number
  seconds: number
  printed: string
  result: Record<string, unknown> | null
}

const int = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) ? Math.round(n).toLocaleString('en-GB') : '–')
const ms = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : n.toFixed(0)} ms` : '–')
const cpu = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(3) : '–')
const x = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) ? `${n.toFixed(2)} ×` : '–')

/** A Markdown table; cells are written as given. */
export function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')
}

type Latency = Record<string, { p50: number; p99: number }>
interface QuerySize { engine: string; households: number; readings: number; latency: Latency }

function ingest(r: Record<string, number>): string {
  const met = (ok: boolean) => (ok ? 'met' : '**not met**')
  const table = markdownTable(['', 'PostgreSQL server', 'embedded (PGlite + TimescaleDB)'], [
    ['load generator alone (a stand-in broker that only answers)', `${int(r.generatorAlone)} msg/s`, 'same'],
    ['ceiling: Kerbside\'s broker acknowledging without storing (QoS 1 publish → PUBACK)', `${int(r.ceiling)} msg/s`, 'same broker'],
    ['end to end: PUBACK after the commit', `${int(r.e2ePg)} msg/s`, `${int(r.e2eEmbedded)} msg/s`],
    ['end to end / ceiling', x(r.e2ePg! / r.ceiling!), x(r.e2eEmbedded! / r.ceiling!)],
    ['raw COPY into the same table', `${int(r.copy)} rows/s`, `${int(r.copyEmbedded)} rows/s`],
    ['end to end / raw COPY', x(r.e2ePg! / r.copy!), x(r.e2eEmbedded! / r.copyEmbedded!)],
    ['publish → PUBACK (= committed) at a steady 2,000 msg/s, p50 / p99', `${ms(r.latPgP50)} / ${ms(r.latPgP99)}`, `${ms(r.latEmbP50)} / ${ms(r.latEmbP99)}`],
    ...(r.cpuPgBroker === undefined ? [] : [['CPU per 1,000 messages end to end, core-seconds (ceiling: broker alone)',
      `${cpu(r.cpuPgBroker + r.cpuPgDatabase!)} (broker ${cpu(r.cpuPgBroker)}, PostgreSQL ${cpu(r.cpuPgDatabase)}; ceiling ${cpu(r.cpuCeilingBroker)})`, `${cpu(r.cpuEmbedded)} (one process)`]]),
  ])
  const stored = r.acknowledgedMissing === undefined
    ? ''
    : `\n\nEvery acknowledged message looked up after each end-to-end run: ${r.acknowledgedMissing === 0 && r.storedTwice === 0 ? 'all stored, each once' : `**${int(r.acknowledgedMissing)} missing, ${int(r.storedTwice)} stored twice**`}.`
  const targets = r.ceiling === undefined
    ? ''
    : `\n\nTargets (2-core machine): end to end on PostgreSQL ≥ 20,000 msg/s ${met(r.e2ePg! >= 20_000)}, ≥ 0.9 × the ceiling ${met(r.e2ePg! / r.ceiling >= 0.9)}; embedded ≥ 10,000 msg/s ${met(r.e2eEmbedded! >= 10_000)}, ≥ 0.9 × the ceiling ${met(r.e2eEmbedded! / r.ceiling >= 0.9)}; p99 at 2,000 msg/s < 100 ms on PostgreSQL ${met(r.latPgP99! < 100)}, < 150 ms embedded ${met(r.latEmbP99! < 150)}.`
  return table + stored + targets
}

function queries(r: { results: QuerySize[]; growth: Record<string, Record<string, number>>; targets: { endpoint: string; p99: number; growth: number; met: boolean }[] }): string {
  const endpoints = Object.keys(r.results[0]?.latency ?? {})
  const sizes = markdownTable(['engine', 'households', 'readings', ...endpoints.map((e) => `${e} p50 / p99`)],
    r.results.map((s) => [s.engine, int(s.households), int(s.readings), ...endpoints.map((e) => `${ms(s.latency[e]?.p50)} / ${ms(s.latency[e]?.p99)}`)]))
  const growth = markdownTable(['engine', ...endpoints.map((e) => `${e}: p99 growth`)],
    Object.entries(r.growth).map(([engine, g]) => [engine, ...endpoints.map((e) => x(g[e]))]))
  const targets = r.targets.map((t) => `- ${t.endpoint}: p99 ${ms(t.p99)} at the larger size, growth ${x(t.growth)} — target (p99 < 50 ms, growth < 2 ×) **${t.met ? 'met' : 'not met'}**`)
  return [sizes, '', growth, '', ...targets].join('\n')
}

function classify(r: { households: number; days: number; busiest: { day: string; decided: number; ms: number } | null; scoreMs: number }): string {
  return markdownTable(['households', 'busiest collection day', 'collections decided', 'classification', 'scoring (kpi-rollup job)'], [
    [int(r.households), r.busiest?.day ?? '–', int(r.busiest?.decided), r.busiest ? `${(r.busiest.ms / 1000).toFixed(1)} s` : '–', `${(r.scoreMs / 1000).toFixed(1)} s`],
  ])
}

function memory(r: { households: number; steadyRate: number; stormRate: number; services: { service: string; idle: { mean: number; max: number }; steady: { mean: number; max: number }; storm: { mean: number; max: number } }[] }): string {
  const mib = (s: { mean: number; max: number }) => `${s.mean.toFixed(0)} / ${s.max.toFixed(0)}`
  return `RSS in MiB, mean / max; ${int(r.households)} households installed.\n\n` + markdownTable(['service', 'idle', `steady ${int(r.steadyRate)} msg/s`, `storm ${int(r.stormRate)} msg/s`],
    r.services.map((s) => [s.service, mib(s.idle), mib(s.steady), mib(s.storm)]))
}

interface NodeRun { nodes: number; nodeCpu: number | null; rate: number; check: { acked: number; found: number; missing: number; rows: number; distinct: number }; cores: Record<string, number>; machineBusyCores: number }

/** Kerbside's broker nodes sharing Redis, each committing its own devices. */
function brokerNodes(runs: NodeRun[], speedups: Record<string, number>): string {
  const parties = Object.keys(runs[0]?.cores ?? {})
  const rows = runs.map((n) => {
    const ours = Object.values(n.cores).reduce((a, b) => a + b, 0)
    const stored = n.check.missing === 0 && n.check.rows === n.check.distinct ? `yes (${int(n.check.acked)})` : `**no** (${int(n.check.found)} of ${int(n.check.acked)}${n.check.rows === n.check.distinct ? '' : `, ${int(n.check.rows - n.check.distinct)} twice`})`
    return [String(n.nodes), n.nodeCpu == null ? 'none' : `${n.nodeCpu} core`, `${int(n.rate)} msg/s`, stored, ...parties.map((p) => (n.cores[p] ?? NaN).toFixed(2)), Math.max(0, n.machineBusyCores - ours).toFixed(2), n.machineBusyCores.toFixed(2)]
  })
  const limitedTwo = runs.find((n) => n.nodes === 2 && n.nodeCpu != null)
  const bound = limitedTwo && limitedTwo.nodeCpu != null && (limitedTwo.cores['broker nodes'] ?? 0) >= 0.9 * 2 * limitedTwo.nodeCpu ? ' (the nodes the bottleneck: each used its whole limit)' : ''
  const ratios = [speedups.unlimited !== undefined ? `no CPU limit **${x(speedups.unlimited)}**` : '', speedups.limited !== undefined ? `each node limited to a share of a core **${x(speedups.limited)}**${bound}` : ''].filter(Boolean).join('; ')
  return 'Kerbside broker nodes sharing Redis, each committing its own devices before PUBACK:\n\n'
    + markdownTable(['nodes', 'CPU limit per node', 'committed (= acknowledged)', 'every acknowledged message stored once', ...parties.map((p) => `${p}, cores`), 'other processes, cores', 'machine busy, cores of 2'], rows)
    + `\n\nTwo nodes / one: ${ratios || '–'}.\n\nFor comparison, the standalone ingest on Mosquitto's shared subscriptions:\n\n`
}

function scaleOut(r: { results: { workers: number; workerCpu?: number | null; rate: number; published: number; stored: number; distinct: number; perWorker: number[]; cores: Record<string, number>; machineBusyCores: number }[]; speedup: number; speedups?: Record<string, number>; nodes?: NodeRun[]; nodeSpeedups?: Record<string, number> }): string {
  const nodes = r.nodes && r.nodes.length > 0 ? brokerNodes(r.nodes, r.nodeSpeedups ?? {}) : ''
  const parties = Object.keys(r.results[0]?.cores ?? {})
  const rows = r.results.map((w) => {
    const ours = Object.values(w.cores).reduce((a, b) => a + b, 0)
    return [String(w.workers), w.workerCpu == null ? 'none' : `${w.workerCpu} core`, `${int(w.rate)} msg/s`, w.stored === w.published && w.distinct === w.stored ? `yes (${int(w.stored)})` : `**no** (${int(w.stored)} of ${int(w.published)})`,
      w.perWorker.map(int).join(' / '), ...parties.map((p) => (w.cores[p] ?? NaN).toFixed(2)), Math.max(0, w.machineBusyCores - ours).toFixed(2), w.machineBusyCores.toFixed(2)]
  })
  // What bounded each pair of runs, from the two-worker run's CPU figures, not assumed.
  const two = (limited: boolean) => r.results.find((w) => w.workers === 2 && (w.workerCpu != null) === limited)
  const boundBy = (limited: boolean): string => {
    const w = two(limited)
    if (!w) return ''
    if (limited && w.workerCpu != null && (w.cores['ingest workers'] ?? 0) >= 0.9 * 2 * w.workerCpu) return ' (the workers the bottleneck: each used its whole limit)'
    if (!limited && w.machineBusyCores >= 0.9 * 2) return ` (the machine's cores the bottleneck: ${w.machineBusyCores.toFixed(2)} of 2 busy)`
    return ''
  }
  const ratios = r.speedups
    ? [r.speedups.unlimited !== undefined ? `no CPU limit **${x(r.speedups.unlimited)}**${boundBy(false)}` : '',
        r.speedups.limited !== undefined ? `each worker limited to a share of a core, as a container's CPU limit does, **${x(r.speedups.limited)}**${boundBy(true)}` : ''].filter(Boolean).join('; ')
    : `**${x(r.speedup)}**`
  return nodes + markdownTable(['workers', 'CPU limit per worker', 'committed', 'each message stored once', 'received per worker', ...parties.map((p) => `${p}, cores`), 'other processes, cores', 'machine busy, cores of 2'], rows)
    + `\n\nTwo workers / one: ${ratios} (target ≥ 1.5 × where the database is not the bottleneck).`
}

const RENDER: Record<string, (r: never) => string> = { ingest, queries, classify, memory, 'scale-out': scaleOut }

export function renderSummary(outcomes: Outcome[]): string {
  return outcomes.map((o) => {
    const head = `### ${o.what}\n\n\`${o.command}\`\n\n`
    if (!o.result) return `${head}No result: the benchmark exited with ${o.exitCode} before printing one; its output is below.`
    const loads = `Load average at its start ${String(o.result.loadStart ?? '–')}, at its end ${String(o.result.loadEnd ?? '–')}.`
    const render = RENDER[o.name]
    let body: string
    try {
      body = render ? render(o.result as never) : '(no summary for this benchmark; its output is below)'
    } catch (err) {
      body = `(summary failed: ${(err as Error).message}; the output is below)`
    }
    return `${head}${body}\n\n${loads}${o.exitCode === 0 ? '' : ` **Exited with ${o.exitCode}.**`}`
  }).join('\n\n')
}
