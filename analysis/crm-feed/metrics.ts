// Prometheus metrics of webhook delivery, on the shared registry, labelled by endpoint id (a hash of
// the URL: a URL may carry a token and must not end up in a metrics store).
import { Counter, Gauge, type Registry } from 'prom-client'

export interface WebhookMetrics {
  delivered: Counter<'endpoint'>
  failedAttempts: Counter<'endpoint' | 'reason'>
  deadLetters: Counter<'endpoint'>
  depth: Gauge<'endpoint'>
  oldestAge: Gauge<'endpoint'>
}

// A restarted worker in the same process (tests, or a reconfiguration) reuses the registered metrics.
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make()
}

export function webhookMetrics(registry: Registry): WebhookMetrics {
  const registers = [registry]
  return {
    delivered: once(registry, 'kerbside_crm_webhooks_delivered_total', () => new Counter({ name: 'kerbside_crm_webhooks_delivered_total', help: 'CRM events delivered by webhook', labelNames: ['endpoint'] as const, registers })),
    failedAttempts: once(registry, 'kerbside_crm_webhook_failed_attempts_total', () => new Counter({ name: 'kerbside_crm_webhook_failed_attempts_total', help: 'Webhook attempts that failed, by reason: http_5xx, http_408, http_429, http_4xx, http_3xx, network', labelNames: ['endpoint', 'reason'] as const, registers })),
    deadLetters: once(registry, 'kerbside_crm_webhook_dead_letters_total', () => new Counter({ name: 'kerbside_crm_webhook_dead_letters_total', help: 'CRM events given up on (dead-lettered) by webhook', labelNames: ['endpoint'] as const, registers })),
    depth: once(registry, 'kerbside_crm_outbox_depth', () => new Gauge({ name: 'kerbside_crm_outbox_depth', help: 'CRM events not yet delivered to the endpoint (dead letters excluded)', labelNames: ['endpoint'] as const, registers })),
    oldestAge: once(registry, 'kerbside_crm_outbox_oldest_undelivered_seconds', () => new Gauge({ name: 'kerbside_crm_outbox_oldest_undelivered_seconds', help: 'Age of the oldest CRM event not yet delivered to the endpoint (0 when none)', labelNames: ['endpoint'] as const, registers })),
  }
}

export function failureReason(statusCode: number | null): string {
  if (statusCode === null) return 'network'
  if (statusCode === 408 || statusCode === 429) return `http_${statusCode}`
  return `http_${Math.floor(statusCode / 100)}xx`
}
