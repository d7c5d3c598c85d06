// MQTT topic layout of the device contract v1:
//   kerbside/v1/bins/{deviceId}/reading | status
//   kerbside/v1/vehicles/{deviceId}/lift | position | status
// A binary variant of each payload travels on the same topic with a `/cbor` suffix, CBOR (RFC 8949) encoded (see codec.ts).
import type { MessageKind } from './messages.ts'

export const TOPIC_ROOT = 'kerbside/v1'
export const DEVICE_KINDS = ['bin', 'vehicle'] as const
export type DeviceKind = (typeof DEVICE_KINDS)[number]

const SEGMENT_BY_KIND: Record<DeviceKind, string> = { bin: 'bins', vehicle: 'vehicles' }
const KIND_BY_SEGMENT: Record<string, DeviceKind> = { bins: 'bin', vehicles: 'vehicle' }

/** Which message kinds each device kind may publish. */
export const ALLOWED_MESSAGES: Record<DeviceKind, readonly MessageKind[]> = {
  bin: ['reading', 'status'],
  vehicle: ['lift', 'position', 'status'],
}

/** Device ids are short, printable and safe in a topic level: no wildcards, no slashes. */
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'
const DEVICE_ID_RE = new RegExp(DEVICE_ID_PATTERN)
export const isDeviceId = (id: string): boolean => DEVICE_ID_RE.test(id)

export interface ParsedTopic {
  deviceKind: DeviceKind
  deviceId: string
  message: MessageKind
  binary: boolean
}

// A device publishes on a handful of topics, and the broker, the ACL and the pipeline each parse
// every message's topic: remember recent answers (bounded; cleared when full).
const parsedTopics = new Map<string, ParsedTopic | null>()
const PARSED_TOPICS_MAX = 200_000

export function parseTopic(topic: string): ParsedTopic | null {
  const known = parsedTopics.get(topic)
  if (known !== undefined) return known
  const parsed = parseTopicUncached(topic)
  if (parsed) Object.freeze(parsed)
  if (parsedTopics.size >= PARSED_TOPICS_MAX) parsedTopics.clear()
  if (topic.length <= 256) parsedTopics.set(topic, parsed)
  return parsed
}

function parseTopicUncached(topic: string): ParsedTopic | null {
  const parts = topic.split('/')
  if (parts.length !== 5 && parts.length !== 6) return null
  const [root, version, segment, deviceId, message, suffix] = parts
  if (`${root}/${version}` !== TOPIC_ROOT || !segment || !deviceId || !message) return null
  const deviceKind = KIND_BY_SEGMENT[segment]
  if (!deviceKind || !isDeviceId(deviceId)) return null
  if (!(ALLOWED_MESSAGES[deviceKind] as readonly string[]).includes(message)) return null
  if (suffix !== undefined && suffix !== 'cbor') return null
  if (suffix === 'cbor' && message === 'status') return null
  return { deviceKind, deviceId, message: message as MessageKind, binary: suffix === 'cbor' }
}

export function deviceTopic(kind: DeviceKind, deviceId: string, message: MessageKind, binary = false): string {
  return `${TOPIC_ROOT}/${SEGMENT_BY_KIND[kind]}/${deviceId}/${message}${binary ? '/cbor' : ''}`
}

/** Everything devices publish, for subscribers such as ingest and the live feed. */
export const ALL_DEVICE_TOPICS = [`${TOPIC_ROOT}/bins/+/+`, `${TOPIC_ROOT}/vehicles/+/+`, `${TOPIC_ROOT}/bins/+/+/cbor`, `${TOPIC_ROOT}/vehicles/+/+/cbor`]
