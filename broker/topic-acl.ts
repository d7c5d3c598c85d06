// What a connected client may publish and subscribe to. A device publishes only the message kinds of
// its own kind, under its own id, at QoS 0 or 1, and retains only its status. It may subscribe only
// below its own topic. Kerbside's services may subscribe to everything; nobody publishes to $SYS.
import type { Client, PublishPacket, Subscription } from 'aedes'
import { parseTopic, TOPIC_ROOT, type DeviceKind } from '../core/contract/topics.ts'
import { principalOf, type Principal } from './device-auth.ts'
import type { BrokerRejectReason } from './metrics.ts'

const SEGMENT: Record<DeviceKind, string> = { bin: 'bins', vehicle: 'vehicles' }

/** Why a publish is refused, or null when it is allowed. Pure, for tests. */
export function publishRefusal(client: Client | null, packet: Pick<PublishPacket, 'topic' | 'qos' | 'retain'> & { clientId?: string }): BrokerRejectReason | null {
  if (packet.topic.startsWith('$SYS')) return 'sys_topic'
  // aedes authorises with no client only a will stored by a broker node that is gone (an unclean
  // stop with level or Redis persistence): it may go only to its own device's status topic.
  if (client === null) return packet.clientId !== undefined && storedWillAllowed(packet.clientId, packet.topic) ? null : 'will_not_allowed'
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

/**
 * A device's last will may only say that device went offline: its own status topic, nothing else.
 * Checked at CONNECT (device-auth.ts), before aedes stores the will.
 */
export function willRefusal(who: Principal, will: Pick<PublishPacket, 'topic' | 'qos'>): BrokerRejectReason | null {
  if (who.type === 'service') return null
  const parsed = parseTopic(will.topic)
  if (!parsed || parsed.message !== 'status' || parsed.deviceKind !== who.deviceKind || parsed.deviceId !== who.deviceId) return 'will_not_allowed'
  if (will.qos > 1) return 'qos2_not_supported'
  return null
}

function storedWillAllowed(clientId: string, topic: string): boolean {
  const parsed = parseTopic(topic)
  return parsed !== null && parsed.message === 'status' && parsed.deviceId === clientId
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
