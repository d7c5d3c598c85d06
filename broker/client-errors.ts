// Why a client connection failed, as a short reason for the metrics: the parser's and aedes's
// messages are many and carry numbers, so they are grouped here. Malformed packets are refused by
// mqtt-packet before aedes sees them; protocol violations are well-formed packets the spec forbids;
// the rest is the network, timeouts, and logins refused (counted in detail by device-auth.ts).
export const CLIENT_ERROR_REASONS = [
  'malformed_packet', 'protocol_violation', 'packet_too_large', 'login_refused', 'keepalive_timeout', 'connect_timeout', 'connection_lost', 'other',
] as const
export type ClientErrorReason = (typeof CLIENT_ERROR_REASONS)[number]

const RULES: [RegExp, ClientErrorReason][] = [
  [/exceeds the \d+-byte limit/, 'packet_too_large'],
  [/malformed Remaining Length|Invalid header flag bits|Not supported|Cannot parse|Invalid protocolId|Invalid protocol version|Connect flag bit|both QoS bits|Invalid (subscribe )?qos|Invalid length|Malformed|Packet too short|Invalid (?:user|password|will|string)/i, 'malformed_packet'],
  [/login refused|too many failed logins/, 'login_refused'],
  [/keep ?alive timeout/i, 'keepalive_timeout'],
  [/connect did not arrive/i, 'connect_timeout'],
  [/not allowed in PUBLISH|Invalid protocol|Invalid topic|publish refused|Invalid subscription|Invalid client/i, 'protocol_violation'],
  [/ECONNRESET|EPIPE|connection closed|ended by the other party|ETIMEDOUT|socket hang up|write after end/i, 'connection_lost'],
]

export function clientErrorReason(err: Error & { code?: string }): ClientErrorReason {
  const text = `${err.code ?? ''} ${err.message}`
  for (const [re, reason] of RULES) if (re.test(text)) return reason
  return 'other'
}
