// Ingest metrics in Prometheus form.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { REJECT_REASONS } from '../core/contract/messages.ts'
import type { BatchStats } from './write-batch.ts'

export function createIngestMetrics(registry: Registry) {
  const rejected = new Counter({ name: 'kerbside_ingest_rejected_total', help: 'Messages refused and quarantined, by reason', labelNames: ['reason'], registers: [registry] })
  for (const reason of [...REJECT_REASONS, 'storage_error']) rejected.inc({ reason }, 0)
  const m = {
    received: new Counter({ name: 'kerbside_ingest_received_total', help: 'Messages received from the broker', registers: [registry] }),
    stored: new Counter({ name: 'kerbside_ingest_stored_total', help: 'Telemetry rows stored, by kind', labelNames: ['kind'], registers: [registry] }),
    duplicates: new Counter({ name: 'kerbside_ingest_duplicates_total', help: 'Redelivered messages recognised and not stored again', registers: [registry] }),
    rejected,
    statusChanges: new Counter({ name: 'kerbside_ingest_status_changes_total', help: 'Device online/offline transitions recorded', registers: [registry] }),
    missing: new Counter({ name: 'kerbside_ingest_seq_missing_total', help: 'Messages devices numbered that had not arrived when a later one did', registers: [registry] }),
    gapsFilled: new Counter({ name: 'kerbside_ingest_seq_gap_filled_total', help: 'Late messages that filled a sequence gap', registers: [registry] }),
    batches: new Counter({ name: 'kerbside_ingest_batches_total', help: 'Batches committed', registers: [registry] }),
    batchSize: new Histogram({ name: 'kerbside_ingest_batch_size', help: 'Messages per committed batch', buckets: [1, 10, 50, 100, 500, 1000, 2000, 5000, 10000], registers: [registry] }),
    commitSeconds: new Histogram({ name: 'kerbside_ingest_commit_seconds', help: 'Time to write and commit one batch', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] }),
    // Age of a message when its row commits: the device's own timestamp to the commit. With device
    // clocks in sync this is publish-to-stored latency; it is also the freshness of the data.
    messageAge: new Histogram({ name: 'kerbside_ingest_message_age_seconds', help: 'Device timestamp to database commit, per stored message', buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30, 60, 300, 3600], registers: [registry] }),
    dbErrors: new Counter({ name: 'kerbside_ingest_db_errors_total', help: 'Batch writes that failed and were retried', labelNames: ['kind'], registers: [registry] }),
    pending: new Gauge({ name: 'kerbside_ingest_pending_messages', help: 'Messages received and not yet acknowledged', registers: [registry] }),
    connected: new Gauge({ name: 'kerbside_ingest_broker_connected', help: '1 while connected to the broker', registers: [registry] }),
  }
  return {
    ...m,
    record(stats: BatchStats, size: number, seconds: number) {
      m.batches.inc()
      m.batchSize.observe(size)
      m.commitSeconds.observe(seconds)
      for (const kind of ['reading', 'lift', 'position'] as const) if (stats.stored[kind]) m.stored.inc({ kind }, stats.stored[kind])
      if (stats.duplicates) m.duplicates.inc(stats.duplicates)
      for (const [reason, n] of Object.entries(stats.rejected)) if (n) rejected.inc({ reason }, n)
      if (stats.statusChanges) m.statusChanges.inc(stats.statusChanges)
      if (stats.missingSeen) m.missing.inc(stats.missingSeen)
      if (stats.gapsFilled) m.gapsFilled.inc(stats.gapsFilled)
    },
  }
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>
