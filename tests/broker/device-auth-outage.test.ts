// Logins while the database is away: a device that logged in before reconnects with the credentials
// last read for it (its messages wait for the database anyway); one never seen is told "server
// unavailable" (CONNACK 3), and a wrong secret is still refused. The lookup is the injected policy
// function, failing here as it does when PostgreSQL is unreachable.
import type { Client } from 'aedes'
import { describe, expect, test } from 'vitest'
import { createAuthenticator } from '../../broker/device-auth.ts'
import { silentLogger } from '../../core/log.ts'
import { generateSecret, hashSecret } from '../../core/secrets.ts'
import type { DeviceCredentials } from '../../storage/devices.ts'

const login = (auth: ReturnType<typeof createAuthenticator>, id: string, secret: string) =>
  new Promise<{ ok: boolean; code?: number }>((resolve) => {
    const client = { id, conn: { remoteAddress: '127.0.0.1' } } as unknown as Client
    auth(client, id, Buffer.from(secret), (err, ok) => resolve(err ? { ok: false, code: err.returnCode } : { ok: ok === true }))
  })

describe('device logins during a database outage', () => {
  test('a known device gets in with its last credentials; an unknown one is told to come back; a wrong secret is refused', async () => {
    const secret = generateSecret()
    const device: DeviceCredentials = { deviceId: 'bin-sensor-1', kind: 'bin', secretHash: await hashSecret(secret), revoked: false }
    let databaseUp = true
    const auth = createAuthenticator({
      lookupDevice: async (id) => {
        if (!databaseUp) throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
        return id === 'bin-sensor-1' ? device : null
      },
      serviceSecret: generateSecret(), failuresPerMinute: 100, logger: silentLogger, onReject: () => undefined,
    })
    expect(await login(auth, 'bin-sensor-1', secret)).toEqual({ ok: true })
    databaseUp = false
    expect(await login(auth, 'bin-sensor-1', secret)).toEqual({ ok: true })
    expect(await login(auth, 'bin-sensor-1', 'not-its-secret')).toEqual({ ok: false, code: 4 })
    expect(await login(auth, 'bin-sensor-2', secret)).toEqual({ ok: false, code: 3 })
  })
})
