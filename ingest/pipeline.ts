// The one ingest pipeline: decode → validate → batch (by size and time) → one transaction → then
// acknowledge. Front doors (Kerbside's own broker in-process, the subscriber to an external broker,
// HTTP webhooks) hand it each message with a callback; the callback runs only after the batch holding
// the message has committed, with the message stored, recognised as a redelivery, or quarantined.
// That callback is where the front door sends its acknowledgement (a PUBACK, an HTTP 2xx), so an
// acknowledged message is a committed one.
//
// Up to `maxInFlight` batches (default 2) are written at once, so that the next batch is on its way
// while the previous one commits; callbacks still run in submission order (a batch answers only
// after the one before it has answered), so a connection's PUBACKs leave in the order its PUBLISHes
// arrived [MQTT-4.6.0-2]. Sequence state stays exact: a batch locks its devices' rows first
// (ingest/write-batch.ts), so two batches sharing a device commit one after the other. While the database is slow or away nothing is
// acknowledged: the front doors stop reading (aedes reads no further from a socket until the
// callbacks of the chunk it parsed have returned), devices keep their messages and retry, memory
// stays bounded, and the pipeline says it is unhealthy until a commit succeeds again.
import type { Registry } from 'prom-client'
import { decodePayload } from '../core/contract/codec.ts'
import { parseTopic } from '../core/contract/topics.ts'
import type { Logger } from '../core/log.ts'
import type { Database } from '../storage/database.ts'
import { createIngestMetrics, type IngestMetrics } from './metrics.ts'
import { createRefusalLog } from './refusal-log.ts'
import { commitBatch, type BatchStats, type DecodedItem } from './write-batch.ts'

export interface Submission {
  topic: string
  payload: Buffer
  /** When the front door received it; default now. */
  receivedAt?: Date
  /**
   * Pass it on to live subscribers once stored (PipelineOptions.forward): for front doors that are
   * not Kerbside's broker (LoRaWAN webhooks), whose messages the broker never saw.
   */
  forward?: boolean
}

/** What became of a message: stored (or a harmless redelivery), or refused and quarantined. */
export interface Verdict {
  refused: boolean
  reason?: string
}

/** The pipeline is closing: the message was not taken, and its sender must send it again. */
export class PipelineClosedError extends Error {
  override name = 'KERBSIDE_ERR_PIPELINE_CLOSED'
}

export interface PipelineOptions {
  db: Database
  logger: Logger
  registry: Registry
  batchSize: number
  /**
   * Longest an idle pipeline waits for a batch to fill; 0 (the default) commits at once, taking
   * what arrived in the same turn of the event loop (a whole chunk a socket read). Under load the
   * next batch gathers while the previous one commits either way. MQTT clients resend their unacknowledged
   * messages one at a time after a reconnect, so each of those waits for this linger plus a commit.
   */
  batchMs: number
  /**
   * Batches written at once (default 2): while one commits, the next is already written, on a
   * second database connection (servers) or queued on the engine's thread (embedded). A second
   * batch starts only once a full one is waiting. 1 restores one commit at a time.
   */
  maxInFlight?: number
  maxPayloadBytes: number
  /** Called after each commit with what was stored (the embedded stack uses it for live jobs). */
  onCommit?: (stats: BatchStats) => void
  /** Where stored messages submitted with `forward` go next (the broker's live subscribers). */
  forward?: (msg: { topic: string; payload: Buffer }) => void
}

export interface Pipeline {
  metrics: IngestMetrics
  /** Take a message; `done` runs after its batch commits (or with an error if the pipeline closes first). */
  submit(msg: Submission, done: (err: Error | null, verdict?: Verdict) => void): void
  /** Messages taken and not yet committed. */
  pending(): number
  /** False while commits fail (database away, disk full); true again after the next success. */
  healthy(): boolean
  /** Why it is unhealthy, in words an operator can act on. */
  problem(): string | null
  /**
   * Take no more messages, commit what is buffered (for up to `timeoutMs`), then answer what is
   * left with PipelineClosedError: committed messages are acknowledged, the rest is for senders to resend.
   */
  close(timeoutMs?: number): Promise<{ committed: number; abandoned: number }>
}

/** How many callbacks run in one turn of the event loop after a commit. */
const ANSWER_SLICE = 250

interface Pending { item: DecodedItem; done: (err: Error | null, verdict?: Verdict) => void; forward?: boolean }

// SQLSTATE classes 22 (data exception) and 23 (integrity violation) mean a row the database will
// never take: such a batch is split to find the message, which is quarantined. Anything else
// (connection lost, server restarting, disk full, lock timeout) is retried with backoff, without
// acknowledging.
const isPoison = (err: unknown): boolean => {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && /^(22|23)/.test(code)
}

/** What an operator should do about a failing commit. */
export function commitProblem(err: unknown): string {
  const e = err as { code?: string; message?: string }
  const message = e.message ?? String(err)
  if (e.code === '53100' || e.code === 'KERBSIDE_ERR_DISK_FULL' || /ENOSPC|no space left|disk.*full/i.test(message)) {
    return `the database's disk is full (${message}): free space or move the data folder; nothing is acknowledged until writes succeed again`
  }
  if (/ECONNREFUSED|ECONNRESET|terminat|Connection|timeout|ETIMEDOUT|EHOSTUNREACH/i.test(message)) {
    return `the database is unreachable (${message}): check that it is running and reachable; devices keep their messages and retry`
  }
  return `database writes fail (${message}); nothing is acknowledged until they succeed again`
}

export function createPipeline(opts: PipelineOptions): Pipeline {
  const { db, logger } = opts
  const metrics = createIngestMetrics(opts.registry)
  const refusals = createRefusalLog(logger)
  let buffer: Pending[] = []
  let timer: NodeJS.Timeout | null = null
  let flushing: Promise<void> | null = null
  const maxInFlight = Math.max(1, opts.maxInFlight ?? 2)
  /** Resolves when the last batch taken has answered all its messages: the next one answers after it. */
  let lastAnswered: Promise<void> = Promise.resolve()
  /** Wakes the flush loop while batches are in flight (a full batch is waiting). */
  let wake: (() => void) | null = null
  let inFlight = 0 // messages of the batches being written
  const pendingCount = () => buffer.length + inFlight
  let closed = false
  let abandonAt = Infinity
  let failing: string | null = null
  let committedTotal = 0
  let abandonedTotal = 0

  const decode = (msg: Submission): DecodedItem => {
    const receivedAt = msg.receivedAt ?? new Date()
    const parsed = parseTopic(msg.topic)
    if (!parsed) return { topic: msg.topic, payload: msg.payload, receivedAt, parsed, result: { ok: false, reason: 'unknown_topic', detail: 'topic is not part of the device contract v1' } }
    return { topic: msg.topic, payload: msg.payload, receivedAt, parsed, result: decodePayload(parsed.message, msg.payload, parsed.binary, opts.maxPayloadBytes, receivedAt.getTime()) }
  }

  function kick() {
    if (timer) { clearTimeout(timer); clearImmediate(timer as unknown as NodeJS.Immediate); timer = null }
    if (flushing) return
    flushing = flushAll().finally(() => {
      flushing = null
      if (buffer.length > 0 && !timer) timer = setTimeout(kick, buffer.length >= opts.batchSize || closed ? 0 : opts.batchMs)
    })
  }

  async function flushAll(): Promise<void> {
    // Group commit: while batches commit, the next gathers; it goes as soon as there is room.
    const running = new Set<Promise<void>>()
    let stopped = false
    for (;;) {
      const room = running.size === 0 || (running.size < maxInFlight && buffer.length >= opts.batchSize)
      if (!stopped && buffer.length > 0 && room) {
        const batch = buffer.slice(0, opts.batchSize)
        buffer = buffer.slice(batch.length)
        inFlight += batch.length
        const turn = lastAnswered
        let answered!: () => void
        lastAnswered = new Promise<void>((r) => { answered = r })
        const run = (async () => {
          try {
            const ok = await commitWithRetry(batch, turn)
            if (!ok) {
              // Closing with the database away: what is left goes back unacknowledged, in order.
              await turn
              stopped = true
              const left = [...batch, ...buffer]
              buffer = []
              abandonedTotal += left.length
              for (const p of left) p.done(new PipelineClosedError('not stored before shutdown; send it again'))
            }
          } finally {
            inFlight -= batch.length
            metrics.pending.set(pendingCount())
            answered()
          }
        })()
        running.add(run)
        run.finally(() => running.delete(run)).catch(() => undefined)
        metrics.pending.set(pendingCount())
        continue
      }
      if (running.size === 0) return
      await Promise.race([...running, new Promise<void>((r) => { wake = r })])
      wake = null
    }
  }

  async function commitWithRetry(batch: Pending[], turn: Promise<void>): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await commit(batch, turn)
        if (failing) {
          logger.info({ after: attempt }, 'database writes succeed again; acknowledging resumes')
          failing = null
        }
        return true
      } catch (err) {
        if (isPoison(err)) {
          metrics.dbErrors.inc({ kind: 'data' })
          await isolatePoison(batch, turn)
          return true
        }
        metrics.dbErrors.inc({ kind: 'transient' })
        const problem = commitProblem(err)
        const delay = Math.min(5_000, 100 * 2 ** Math.min(attempt, 6))
        if (failing !== problem || attempt % 20 === 0) logger.error({ err: (err as Error).message, attempt, retryInMs: delay, batch: batch.length }, problem)
        failing = problem
        if (Date.now() + delay > abandonAt) return false
        await new Promise((r) => setTimeout(r, delay))
      }
    }
  }

  /** Write `batch` in one transaction, then, once the batch before it has answered (`turn`), answer its messages. */
  async function commit(batch: Pending[], turn: Promise<void>): Promise<void> {
    const t0 = performance.now()
    const stats = await commitBatch(db, batch.map((p) => p.item), { invalidateRollup: !db.capabilities.continuousAggregates })
    const committedAt = Date.now()
    committedTotal += batch.length
    await turn
    // Answer in slices, yielding between them: each answer lets a front door acknowledge and publish
    // synchronously, and thousands at once would pile into aedes' emitter queue, which drains itself
    // by recursion (a stack overflow during a close with a big backlog). Order is kept.
    for (let i = 0; i < batch.length; i += ANSWER_SLICE) {
      if (i > 0) await new Promise<void>((r) => setImmediate(r))
      for (const p of batch.slice(i, i + ANSWER_SLICE)) {
        const refusal = stats.refusedItems.get(p.item)
        p.done(null, refusal ? { refused: true, reason: refusal.reason } : { refused: false })
        if (p.forward && !refusal && opts.forward) opts.forward({ topic: p.item.topic, payload: p.item.payload })
      }
    }
    metrics.record(stats, batch.length, (performance.now() - t0) / 1000)
    for (const p of batch) {
      const r = p.item.result
      if (r.ok && r.message.kind !== 'status') metrics.messageAge.observe((committedAt - Date.parse(r.message.body.ts)) / 1000)
    }
    if (stats.refusedItems.size > 0) refusals.record(stats.refusedItems)
    opts.onCommit?.(stats)
  }

  // Split a batch the database refuses until the refused messages stand alone; quarantine those.
  async function isolatePoison(batch: Pending[], turn: Promise<void>): Promise<void> {
    if (batch.length === 1) {
      const p = batch[0]!
      logger.error({ topic: p.item.topic }, 'message refused by the database; quarantined as storage_error')
      const item: DecodedItem = { ...p.item, result: { ok: false, reason: 'storage_error', detail: 'the database refused this message' } }
      await commitWithRetry([{ item, done: p.done }], turn)
      return
    }
    const half = Math.ceil(batch.length / 2)
    for (const part of [batch.slice(0, half), batch.slice(half)]) {
      try {
        await commit(part, turn)
      } catch (err) {
        if (!isPoison(err)) { await commitWithRetry(part, turn); continue }
        await isolatePoison(part, turn)
      }
    }
  }

  return {
    metrics,
    submit(msg, done) {
      if (closed) return done(new PipelineClosedError('Kerbside is shutting down; send it again after the restart'))
      metrics.received.inc()
      buffer.push({ item: decode(msg), done, forward: msg.forward })
      metrics.pending.set(pendingCount())
      if (buffer.length >= opts.batchSize) {
        if (flushing) wake?.()
        else kick()
      }
      else if (!timer && !flushing) timer = opts.batchMs > 0 ? setTimeout(kick, opts.batchMs) : setImmediate(kick) as unknown as NodeJS.Timeout
    },
    pending: () => buffer.length,
    // The database may know it is unwell before a commit fails (the embedded engine after a disk-full
    // abort): then no device should be told to wait on a commit that cannot happen.
    healthy: () => failing === null && (db.health?.().ok ?? true),
    problem: () => failing ?? (db.health?.().ok === false ? db.health().reason ?? 'the database is unavailable' : null),
    async close(timeoutMs = 10_000) {
      closed = true
      abandonAt = Date.now() + timeoutMs
      const before = { committed: committedTotal, abandoned: abandonedTotal }
      while (flushing || buffer.length > 0) {
        if (!flushing) kick()
        await flushing
      }
      if (timer) { clearTimeout(timer); timer = null }
      return { committed: committedTotal - before.committed, abandoned: abandonedTotal - before.abandoned }
    },
  }
}

export type { BatchStats, DecodedItem }
