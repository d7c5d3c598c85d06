// The reasons under which failed client connections are counted (the messages are those seen from
// mqtt-packet, aedes, the frame limit and the socket in tests/hostile/mqtt-frames.test.ts).
import { expect, test } from 'vitest'
import { clientErrorReason } from '../../broker/client-errors.ts'

test.each([
  ['Invalid header flag bits, must be 0x2 for subscribe packet', 'malformed_packet'],
  ['malformed Remaining Length (more than four bytes)', 'malformed_packet'],
  ['Invalid protocolId', 'malformed_packet'],
  ['Invalid protocol version', 'malformed_packet'],
  ['Connect flag bit 0 must be 0, but got 1', 'malformed_packet'],
  ['Packet must not have both QoS bits set to 1', 'malformed_packet'],
  ['Cannot parse topic', 'malformed_packet'],
  ['Not supported', 'malformed_packet'],
  ['Invalid subscribe QoS, must be <= 2', 'malformed_packet'],
  ['packet of 300029 bytes exceeds the 262144-byte limit', 'packet_too_large'],
  ['login refused: bad_credentials', 'login_refused'],
  ['Invalid protocol', 'protocol_violation'],
  ['+ is not allowed in PUBLISH', 'protocol_violation'],
  ['empty topic not allowed in PUBLISH', 'protocol_violation'],
  ['keep alive timeout', 'keepalive_timeout'],
  ['connect did not arrive in time', 'connect_timeout'],
  ['connection closed', 'connection_lost'],
  ['This socket has been ended by the other party', 'connection_lost'],
  ['something new', 'other'],
])('%s -> %s', (message, reason) => {
  expect(clientErrorReason(new Error(message))).toBe(reason)
})

test('socket error codes', () => {
  expect(clientErrorReason(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe('connection_lost')
  expect(clientErrorReason(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBe('connection_lost')
})
