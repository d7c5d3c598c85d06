// A repair for an aedes 1.2 race. When a persistent-session subscriber reconnects while messages
// keep arriving for it (a broker restart with devices resending is the usual case), aedes empties
// the stored queue once, at CONNECT; a message enqueued for the subscriber in the moment before it
// is registered as connected stays in the queue, without a packet id, and is only delivered at the
// next reconnect. For Kerbside's ingest that is a message stored late — or, if ingest never
// reconnects, never.
//
// The sweep looks, every interval, at the queues of connected persistent-session service clients
// (ingest; devices rarely subscribe), and delivers a message that has sat there without a packet
// id through two sweeps in a row. Delivery goes through the client's own deliverQoS, which assigns
// the id and updates the stored entry exactly as the CONNECT-time emptying does. (The message was
// offered live once and lost there: persisting it and writing it raced; aedes's duplicate filter
// has since marked it seen, which is why it is never offered again.)
import type { Aedes, Client } from 'aedes'
import type { Logger } from '../core/log.ts'
import { principalOf } from './device-auth.ts'

interface StoredPacket { messageId?: number; brokerId?: string; brokerCounter?: number }
type SessionClient = Client & { clean: boolean; duplicates: Record<string, number>; deliverQoS(p: unknown, cb: () => void): void }
type Internal = Aedes & { clients: Record<string, SessionClient>; persistence: { outgoingStream(c: Client): AsyncIterable<StoredPacket> } }

/**
 * deliverQoS drops a packet whose broker counter is not above the highest this client has seen
 * (aedes's duplicate filter), and a left-behind packet is older than what came after it: lower
 * the mark for this one call, then put it back. The filter runs synchronously at the start of
 * deliverQoS, so nothing else can slip through in between.
 */
function redeliver(client: SessionClient, packet: StoredPacket): void {
  if (!packet.brokerId || packet.brokerCounter === undefined) return client.deliverQoS(packet, () => undefined)
  const mark = client.duplicates[packet.brokerId] ?? 0
  client.duplicates[packet.brokerId] = packet.brokerCounter - 1
  client.deliverQoS(packet, () => undefined)
  client.duplicates[packet.brokerId] = Math.max(mark, client.duplicates[packet.brokerId] ?? 0)
}

export function startStuckQueueSweeper(aedes: Aedes, logger: Logger, onRedeliver: (n: number) => void, intervalMs = 10_000): () => void {
  const seen = new WeakMap<Client, Set<string>>()
  const broker = aedes as Internal
  let running = false
  const sweep = async () => {
    if (running) return
    running = true
    try {
      for (const client of Object.values(broker.clients)) {
        if (client.clean || principalOf(client)?.type !== 'service') continue
        const now = new Set<string>()
        const stuck: StoredPacket[] = []
        const before = seen.get(client) ?? new Set<string>()
        for await (const packet of broker.persistence.outgoingStream(client)) {
          if (packet.messageId) continue
          const key = `${packet.brokerId}:${packet.brokerCounter}`
          now.add(key)
          if (before.has(key)) stuck.push(packet)
        }
        seen.set(client, now)
        if (stuck.length === 0) continue
        logger.warn({ clientId: client.id, messages: stuck.length }, 'delivering messages left in a session queue after a reconnect')
        onRedeliver(stuck.length)
        for (const packet of stuck.sort((a, b) => (a.brokerCounter ?? 0) - (b.brokerCounter ?? 0))) redeliver(client, packet)
      }
    } catch (err) {
      logger.error({ err }, 'session queue sweep failed')
    } finally {
      running = false
    }
  }
  const timer = setInterval(() => void sweep(), intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
