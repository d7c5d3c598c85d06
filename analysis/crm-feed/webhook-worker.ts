// Delivers the CRM outbox to the configured webhook URL(s). Each pass runs under a database lock, so
// however many API instances run a worker, one delivers at a time; the state it needs (what is due,
// attempts, whether an endpoint is failing) lives in the database, so another instance, or this one
// after a crash, carries on where it stopped. An event is marked delivered only after the CRM answered
// 2xx: a crash between the two means the event is sent again, and the CRM recognises it by its
// Idempotency-Key. Nothing is marked delivered that was not acknowledged, so nothing is lost.
//
// While an endpoint fails (5xx, timeout, refused connection) the worker backs off for the whole
// endpoint and then sends one event at a time as a probe, taking the longest-waiting delivery each
// time, so that an outage spreads attempts over the backlog instead of hammering the CRM with all of it.
import { createHash } from 'node:crypto'
import type { Registry } from 'prom-client'
import type { Logger } from '../../core/log.ts'
import { redactUrl } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { dueDeliveries, enqueueNewEvents, getEndpoint, pendingStats, recordAttempt, registerEndpoint, setEndpointHealth, type DueDelivery, type WebhookEndpoint } from '../../storage/crm-deliveries.ts'
import { failureReason, webhookMetrics } from './metrics.ts'
import { backoffDelayMs, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.ts'
import { sendWebhook, type SendResult } from './send-webhook.ts'

export const DELIVERY_LOCK = 'crm-webhook-delivery'

export interface WebhookWorkerOptions {
  db: Database
  logger: Logger
  registry: Registry
  urls: readonly string[]
  /** HMAC secrets; every one signs each request (rotation). */
  secrets: readonly string[]
  retry?: Partial<RetryPolicy>
  timeoutMs?: number
  /** Deliveries per pass and endpoint. */
  batchSize?: number
  /** Requests in flight per endpoint. */
  concurrency?: number
  /** Pause between passes when there was nothing (more) to do. */
  pollMs?: number
  random?: () => number
}

export interface WebhookWorker {
  readonly endpoints: readonly { endpointId: string; url: string }[]
  /** Look for work now rather than at the next poll. */
  wake(): void
  /** Stop: requests in flight are abandoned uncounted (they will be sent again), then the loop ends. */
  stop(): Promise<void>
}

export class WebhookConfigError extends Error {
  override name = 'KERBSIDE_ERR_WEBHOOK_CONFIG'
}

/** Stable id of an endpoint: a hash of its full URL (which may hold a token, so it is never shown). */
export const endpointIdOf = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 16)

/** The URL as it may be shown and stored: no credentials, no query string. */
export function displayUrl(url: string): string {
  const u = new URL(url)
  return `${u.protocol}//${u.host}${u.pathname}`
}

export function startCrmWebhooks(opts: WebhookWorkerOptions): WebhookWorker {
  if (opts.secrets.length === 0 || opts.secrets.some((s) => s.length < 16)) throw new WebhookConfigError('Webhooks need a signing secret of at least 16 characters (CRM_WEBHOOK_SECRET).')
  const endpoints = opts.urls.map((url) => {
    const u = new URL(url)
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new WebhookConfigError(`Webhook URL ${redactUrl(displayUrl(url))} must be http or https.`)
    return { endpointId: endpointIdOf(url), url, shown: displayUrl(url) }
  })
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...opts.retry }
  const { db } = opts
  const log = opts.logger.child({ component: 'crm-webhooks' })
  const metrics = webhookMetrics(opts.registry)
  const batchSize = opts.batchSize ?? 100
  const concurrency = opts.concurrency ?? 4
  const pollMs = opts.pollMs ?? 1000
  const timeoutMs = opts.timeoutMs ?? 10_000
  const random = opts.random ?? Math.random
  const stopping = new AbortController()
  let wakeUp: (() => void) | null = null
  let registered = false

  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const done = () => { clearTimeout(timer); wakeUp = null; resolve() }
    const timer = setTimeout(done, ms)
    wakeUp = done
  })

  /** Deliver what is due to one endpoint; true when there may be more to do at once. */
  async function deliverTo(ep: { endpointId: string; url: string; shown: string }, state: WebhookEndpoint): Promise<boolean> {
    const now = new Date()
    if (state.pausedUntil && state.pausedUntil > now) return false
    const probing = state.consecutiveFailures > 0
    const due = await dueDeliveries(db, ep.endpointId, now, probing ? 1 : batchSize)
    let next = 0
    let failing = false
    let delivered = 0
    const run = async () => {
      while (!failing && !stopping.signal.aborted && next < due.length) {
        const d = due[next++]!
        const result = await sendWebhook(ep.url, d.event, { secrets: opts.secrets, timeoutMs, signal: stopping.signal })
        if (result.kind === 'interrupted') return
        await record(ep, d, result)
        if (result.kind === 'delivered') delivered++
        if (result.kind === 'retry') failing = true
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, run))
    if (stopping.signal.aborted) return false
    if (failing) {
      const failures = state.consecutiveFailures + 1
      const pausedUntil = new Date(Date.now() + backoffDelayMs(failures, policy, random))
      await setEndpointHealth(db, ep.endpointId, failures, pausedUntil)
      if (failures === 1) log.warn({ endpoint: ep.endpointId, url: ep.shown }, 'CRM webhook endpoint is failing; backing off and retrying')
      return false
    }
    if (probing && delivered > 0) {
      await setEndpointHealth(db, ep.endpointId, 0, null)
      log.info({ endpoint: ep.endpointId, url: ep.shown, after: state.consecutiveFailures }, 'CRM webhook endpoint answers again')
    }
    return delivered > 0 && (probing || due.length === batchSize)
  }

  async function record(ep: { endpointId: string; shown: string }, d: DueDelivery, result: Exclude<SendResult, { kind: 'interrupted' }>): Promise<void> {
    const at = new Date()
    const attempt = d.attempts + 1
    if (result.kind === 'delivered') {
      await recordAttempt(db, ep.endpointId, d.event.id, at, { kind: 'delivered', statusCode: result.statusCode })
      metrics.delivered.inc({ endpoint: ep.endpointId })
      return
    }
    metrics.failedAttempts.inc({ endpoint: ep.endpointId, reason: failureReason(result.statusCode) })
    if (result.kind === 'retry' && attempt < policy.maxAttempts) {
      const nextAttemptAt = new Date(at.getTime() + backoffDelayMs(attempt, policy, random, result.retryAfterMs))
      await recordAttempt(db, ep.endpointId, d.event.id, at, { kind: 'retry', statusCode: result.statusCode, error: result.error, nextAttemptAt })
      return
    }
    const why = result.kind === 'retry' ? `gave up after ${attempt} attempts` : 'refused by the CRM'
    await recordAttempt(db, ep.endpointId, d.event.id, at, { kind: 'dead', statusCode: result.statusCode, error: `${why}: ${result.error}` })
    metrics.deadLetters.inc({ endpoint: ep.endpointId })
    log.error({ endpoint: ep.endpointId, url: ep.shown, eventId: d.event.id, idempotencyKey: d.event.idempotencyKey, attempts: attempt, statusCode: result.statusCode, error: result.error },
      `CRM event dead-lettered (${why}); requeue it once the cause is fixed`)
  }

  async function pass(): Promise<boolean> {
    if (!registered) {
      for (const ep of endpoints) await registerEndpoint(db, ep.endpointId, ep.shown)
      registered = true
    }
    let more = false
    for (const ep of endpoints) {
      if (stopping.signal.aborted) break
      await enqueueNewEvents(db, ep.endpointId, batchSize * 10)
      const state = await getEndpoint(db, ep.endpointId)
      if (state && (await deliverTo(ep, state))) more = true
    }
    await updateGauges()
    return more
  }

  async function updateGauges(): Promise<void> {
    const now = Date.now()
    for (const s of await pendingStats(db, endpoints.map((e) => e.endpointId))) {
      metrics.depth.set({ endpoint: s.endpointId }, s.undelivered)
      metrics.oldestAge.set({ endpoint: s.endpointId }, s.oldestUndeliveredAt ? Math.max(0, (now - s.oldestUndeliveredAt.getTime()) / 1000) : 0)
    }
  }

  const loop = (async () => {
    log.info({ endpoints: endpoints.map((e) => ({ endpoint: e.endpointId, url: e.shown })) }, 'CRM webhook delivery started')
    while (!stopping.signal.aborted) {
      let more = false
      try {
        const r = await db.withLock(DELIVERY_LOCK, pass)
        more = r.ran && r.value
      } catch (err) {
        if (!stopping.signal.aborted) log.error({ err }, 'CRM webhook pass failed; trying again shortly')
      }
      if (!more && !stopping.signal.aborted) await sleep(pollMs)
    }
  })()

  return {
    endpoints: endpoints.map(({ endpointId, shown }) => ({ endpointId, url: shown })),
    wake: () => wakeUp?.(),
    async stop() {
      stopping.abort()
      wakeUp?.()
      await loop
    },
  }
}
