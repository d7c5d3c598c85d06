// The last will under the topic ACL (pure rules; the CONNECT refusal over a real socket is in
// puback-after-commit.test.ts). Regression: a device's will could target another device's topic,
// and a will stored by a dead broker node was published with no client, which the ACL let through.
import { describe, expect, test } from 'vitest'
import { publishRefusal, willRefusal } from '../../broker/topic-acl.ts'

const device = { type: 'device', deviceId: 'will-wa', deviceKind: 'bin' } as const

describe('wills', () => {
  test('a device may leave a will only on its own status topic', () => {
    expect(willRefusal(device, { topic: 'kerbside/v1/bins/will-wa/status', qos: 1 })).toBeNull()
    expect(willRefusal(device, { topic: 'kerbside/v1/bins/will-wb/reading', qos: 1 })).toBe('will_not_allowed')
    expect(willRefusal(device, { topic: 'kerbside/v1/bins/will-wb/status', qos: 1 })).toBe('will_not_allowed')
    expect(willRefusal(device, { topic: 'kerbside/v1/bins/will-wa/reading', qos: 1 })).toBe('will_not_allowed')
    expect(willRefusal(device, { topic: 'kerbside/v1/vehicles/will-wa/status', qos: 1 })).toBe('will_not_allowed')
    expect(willRefusal(device, { topic: 'anything/else', qos: 0 })).toBe('will_not_allowed')
    expect(willRefusal({ type: 'service', name: 'kerbside-live' }, { topic: 'anything/else', qos: 0 })).toBeNull()
  })

  test('a stored will published with no client goes only to its own device status topic', () => {
    const will = (clientId: string | undefined, topic: string) => ({ topic, qos: 1 as const, retain: true, ...(clientId ? { clientId } : {}) })
    expect(publishRefusal(null, will('will-wa', 'kerbside/v1/bins/will-wa/status'))).toBeNull()
    expect(publishRefusal(null, will('will-wa', 'kerbside/v1/bins/will-wb/reading'))).toBe('will_not_allowed')
    expect(publishRefusal(null, will('will-wa', 'kerbside/v1/bins/will-wb/status'))).toBe('will_not_allowed')
    expect(publishRefusal(null, will(undefined, 'kerbside/v1/bins/will-wa/status'))).toBe('will_not_allowed')
    expect(publishRefusal(null, will('will-wa', '$SYS/x'))).toBe('sys_topic')
  })
})
