// What a connected client may publish and subscribe to. A device publishes only the message kinds of
// its own kind, under its own id, at QoS 0 or 1, and retains only its status. It may subscribe only
// below its own topic. Kerbside's services may subscribe to everything; nobody publishes to $SYS.
import type { Client, PublishPacket, Subscription } from 'aedes'
import { parseTopic, TOPIC_ROOT, type DeviceKind } from '../core/contract/topics.ts'
import { principalOf } from './device-auth.ts'
import type { BrokerRejectReason } from './metrics.ts'

const SEGMENT: Record<DeviceKind, string> = { bin: 'bins', vehicle: 'vehicles' }

/** Why a publish is refused, or null when it is allowed. Pure, for tests. */
export function publishRefusal(client: Client | null, packet: Pick<PublishPacket, 'topic' | 'qos' | 'retain'>): BrokerRejectReason | null {
  if (packet.topic.startsWith('$SYS')) return 'sys_topic'
  if (client === null) return null // published by the broker itself
  const who = principalOf(client)
  if (!who) return 'bad_credentials'
  if (who.type === 'service') return null
  const parsed = parseTopic(packet.topic)
  if (!parsed || parsed.deviceKind !== who.deviceKind) return 'topic_invalid'
  if (parsed.deviceId !== who.deviceId) return 'topic_not_own'
  if (packet.qos > 1) return 'qos2_not_supported'
  if (packet.retain && parsed.message !== 'status') return 'retain_not_allowed'
  return null
}

export function subscribeAllowed(client: Client, topic: string): boolean {
  const who = principalOf(client)
  if (!who) return false
  if (who.type === 'service') return true
  return topic.startsWith(`${TOPIC_ROOT}/${SEGMENT[who.deviceKind]}/${who.deviceId}/`)
}

export function createAcl(onReject: (reason: BrokerRejectReason, client: Client | null, topic: string) => void) {
  return {
    authorizePublish(client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void {
      const reason = publishRefusal(client, packet)
      if (reason) {
        onReject(reason, client, packet.topic)
        // aedes disconnects a client whose publish is refused (MQTT 3.1.1 has no negative PUBACK).
        return callback(new Error(`publish refused: ${reason}`))
      }
      callback(null)
    },
    authorizeSubscribe(client: Client, sub: Subscription, callback: (error: Error | null, sub?: Subscription | null) => void): void {
      if (!subscribeAllowed(client, sub.topic)) {
        onReject('subscribe_denied', client, sub.topic)
        return callback(null, null) // SUBACK with failure 0x80 for this filter [MQTT-3.9.3-2]
      }
      callback(null, sub)
    },
  }
}
