// Broker metrics in Prometheus form: connections, messages in and out, rejections by reason.
import { Counter, Gauge, type Registry } from 'prom-client'
import { CLIENT_ERROR_REASONS } from './client-errors.ts'

export const BROKER_REJECT_REASONS = [
  'bad_credentials', 'unknown_device', 'packet_too_large', 'revoked_device', 'client_id_mismatch', 'throttled',
  'topic_not_own', 'topic_invalid', 'sys_topic', 'qos2_not_supported', 'retain_not_allowed', 'subscribe_denied', 'will_not_allowed', 'shutting_down',
] as const
export type BrokerRejectReason = (typeof BROKER_REJECT_REASONS)[number]

export interface BrokerMetrics {
  connections: Counter<'transport'>
  connected: Gauge
  messagesIn: Counter<'kind'>
  messagesOut: Counter
  rejections: Counter<'reason'>
  clientErrors: Counter<'reason'>
  queueRepairs: Counter
  /** Device PUBLISHes held for their commit now (their PUBACK waits). */
  awaitingCommit: Gauge
  revokedDisconnects: Counter
}

export function createBrokerMetrics(registry: Registry): BrokerMetrics {
  const rejections = new Counter({ name: 'kerbside_broker_rejections_total', help: 'Connections, publishes and subscriptions refused, by reason', labelNames: ['reason'], registers: [registry] })
  for (const reason of BROKER_REJECT_REASONS) rejections.inc({ reason }, 0)
  const clientErrors = new Counter({ name: 'kerbside_broker_client_errors_total', help: 'Client connections that failed, by reason (broker/client-errors.ts): malformed packets, protocol violations, timeouts, lost connections', labelNames: ['reason'], registers: [registry] })
  for (const reason of CLIENT_ERROR_REASONS) clientErrors.inc({ reason }, 0)
  return {
    connections: new Counter({ name: 'kerbside_broker_connections_total', help: 'Client connections accepted', labelNames: ['transport'], registers: [registry] }),
    connected: new Gauge({ name: 'kerbside_broker_connected_clients', help: 'Clients connected now', registers: [registry] }),
    messagesIn: new Counter({ name: 'kerbside_broker_messages_in_total', help: 'PUBLISH packets accepted from clients', labelNames: ['kind'], registers: [registry] }),
    messagesOut: new Counter({ name: 'kerbside_broker_messages_out_total', help: 'PUBLISH packets forwarded to subscribers', registers: [registry] }),
    rejections,
    clientErrors,
    awaitingCommit: new Gauge({ name: 'kerbside_broker_awaiting_commit_messages', help: 'Device messages handed to the ingest pipeline whose PUBACK waits for their commit', registers: [registry] }),
    revokedDisconnects: new Counter({ name: 'kerbside_broker_revoked_disconnects_total', help: 'Connections closed because their device was revoked', registers: [registry] }),
    queueRepairs: new Counter({ name: 'kerbside_broker_queue_repairs_total', help: 'Messages delivered from a session queue that aedes left behind after a reconnect (see broker/stuck-queue.ts)', registers: [registry] }),
  }
}
