// prom-client's default process and Node.js metrics, under Kerbside's prefix, minus the three
// gauges whose names break Prometheus' naming rules: `nodejs_active_{handles,requests,resources}_total`
// are gauges ending in `_total`, which `promtool check metrics` reserves for counters. Each has a
// per-type twin (`kerbside_nodejs_active_handles{type="…"}` and so on) that stays, so the totals are
// `sum(kerbside_nodejs_active_handles)`, `sum(kerbside_nodejs_active_requests)` and
// `sum(kerbside_nodejs_active_resources)`.
import { collectDefaultMetrics, type Registry } from 'prom-client'

export const METRICS_PREFIX = 'kerbside_'

/** Default metrics prom-client registers that are gauges named like counters. */
const GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

export function collectKerbsideDefaultMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX })
  for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(METRICS_PREFIX + name)
}
