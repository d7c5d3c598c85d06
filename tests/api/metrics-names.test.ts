// /metrics against the naming rules `promtool check metrics` applies (Prometheus' util/promlint):
// Prometheus' own linter is a Go binary not on every machine, so its rules are written out here and
// proven to bite on prom-client's unfiltered defaults, which broke them before.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Registry, collectDefaultMetrics } from 'prom-client'
import { startTestStack, type TestStack } from '../helpers/stack.ts'

interface Family { name: string; type?: string; help?: string }

/** The metric families of a text exposition, by the name their `# TYPE` / `# HELP` lines give. */
function families(text: string): Family[] {
  const byName = new Map<string, Family>()
  const family = (name: string) => byName.get(name) ?? byName.set(name, { name }).get(name)!
  for (const line of text.split('\n')) {
    const [, kind, name, rest] = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line) ?? []
    if (!kind || !name) continue
    if (kind === 'TYPE') family(name).type = rest
    else family(name).help = rest
  }
  return [...byName.values()]
}

// promlint's unit lists: non-base units it names, and abbreviations it refuses.
const NON_BASE_UNITS = ['minutes', 'hours', 'days', 'weeks', 'milliseconds', 'microseconds', 'nanoseconds', 'kilobytes', 'megabytes', 'gigabytes', 'kilometers', 'millimeters', 'centimeters', 'celsius', 'fahrenheit', 'grams', 'kilograms', 'percent']
const ABBREVIATIONS = ['s', 'ms', 'us', 'ns', 'sec', 'b', 'kb', 'mb', 'gb', 'tb', 'pb', 'm', 'h', 'd']

/** The problems promtool would report for one family, in its words. */
function lint(f: Family): string[] {
  const problems: string[] = []
  const { name, type } = f
  if (!f.help) problems.push('no help text')
  if (!type) problems.push('no type')
  if (type === 'counter' && !name.endsWith('_total')) problems.push('counter metrics should have "_total" suffix')
  if (type !== 'counter' && name.endsWith('_total')) problems.push('non-counter metrics should not have "_total" suffix')
  if (type !== 'histogram' && name.endsWith('_bucket')) problems.push('non-histogram metrics should not have "_bucket" suffix')
  if (type !== 'histogram' && type !== 'summary' && (name.endsWith('_count') || name.endsWith('_sum'))) problems.push('non-histogram and non-summary metrics should not have "_count"/"_sum" suffix')
  if (/[A-Z]/.test(name)) problems.push('metric names should be written in snake_case not camelCase')
  if (name.includes(':')) problems.push('metric names should not contain ":"')
  if (type && new RegExp(`_${type}(_|$)`).test(name)) problems.push(`metric name should not include type '${type}'`)
  const words = name.split('_')
  for (const unit of NON_BASE_UNITS) if (words.includes(unit)) problems.push(`use base unit instead of "${unit}"`)
  for (const abbr of ABBREVIATIONS) if (words.slice(1).includes(abbr)) problems.push(`metric names should not contain abbreviated units ("${abbr}")`)
  return problems.map((p) => `${name}: ${p}`)
}

const lintAll = (text: string) => families(text).flatMap(lint)

let t: TestStack
beforeAll(async () => { t = await startTestStack() })
afterAll(async () => t?.close())

describe('metric names', () => {
  test('the rules catch prom-client\'s unfiltered defaults (the names promtool reported)', async () => {
    const registry = new Registry()
    collectDefaultMetrics({ register: registry, prefix: 'kerbside_' })
    expect(lintAll(await registry.metrics())).toEqual(expect.arrayContaining([
      'kerbside_nodejs_active_handles_total: non-counter metrics should not have "_total" suffix',
      'kerbside_nodejs_active_requests_total: non-counter metrics should not have "_total" suffix',
      'kerbside_nodejs_active_resources_total: non-counter metrics should not have "_total" suffix',
    ]))
    expect(lint({ name: 'x_latency_ms', type: 'gauge', help: 'h' })).toEqual(['x_latency_ms: metric names should not contain abbreviated units ("ms")'])
    expect(lint({ name: 'x_seen', type: 'counter', help: 'h' })).toEqual(['x_seen: counter metrics should have "_total" suffix'])
  })

  test('every family the all-in-one process exposes passes them, and the per-type handle gauges remain', async () => {
    await fetch(`${t.httpUrl}/healthz`) // so the HTTP histograms have a sample
    const res = await fetch(`${t.httpUrl}/metrics`)
    expect(res.status).toBe(200)
    const text = await res.text()
    const all = families(text)
    expect(all.length).toBeGreaterThan(20)
    expect(all.map((f) => f.name)).toEqual(expect.arrayContaining(['kerbside_nodejs_active_handles', 'kerbside_process_cpu_seconds_total', 'kerbside_ingest_received_total']))
    expect(lintAll(text)).toEqual([])
  })
})
