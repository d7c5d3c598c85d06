// Who may connect. Devices log in with username = device id and their own secret (checked against
// a slow hash); the MQTT client id must equal the device id so that no device can take over another's
// session. Kerbside's own services log in with the shared service secret. Failed logins are throttled
// per remote address and logged.
import type { Client } from 'aedes'
import type { Logger } from '../core/log.ts'
import type { DeviceKind } from '../core/contract/topics.ts'
import type { DeviceCredentials } from '../storage/devices.ts'
import { safeEqual, sha256, verifySecret } from '../core/secrets.ts'
import type { BrokerRejectReason } from './metrics.ts'

export type Principal =
  | { type: 'device'; deviceId: string; deviceKind: DeviceKind }
  | { type: 'service'; name: string }

export interface DeviceAuthOptions {
  lookupDevice: (deviceId: string) => Promise<DeviceCredentials | null>
  /** Secret of Kerbside's own services (ingest, live feed, simulators' control plane). */
  serviceSecret: string
  failuresPerMinute: number
  /** How long a successful secret check is remembered, so that reconnect storms hash once per device. */
  cacheTtlMs?: number
  logger: Logger
  onReject: (reason: BrokerRejectReason) => void
  now?: () => number
}

/** Usernames of Kerbside's own services start with this prefix; no device id may. */
export const SERVICE_USER_PREFIX = 'kerbside-'

const principals = new WeakMap<Client, Principal>()
export const principalOf = (client: Client | null): Principal | undefined => (client ? principals.get(client) : undefined)

type AuthDone = (error: (Error & { returnCode: number }) | null, success: boolean | null) => void

const refuse = (done: AuthDone, returnCode: number, message: string) => {
  const err = Object.assign(new Error(message), { returnCode })
  done(err, null)
}
const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5

export function createAuthenticator(opts: DeviceAuthOptions) {
  const now = opts.now ?? Date.now
  const ttl = opts.cacheTtlMs ?? 24 * 3_600_000
  // (stored hash, digest of the presented secret) pairs that verified, and when. Keyed by the stored
  // hash rather than the device, so a fleet provisioned with one shared secret hashes once.
  const verified = new Map<string, number>()
  // Checks in progress, so that a fleet sharing one secret connecting at once hashes once, not once each.
  const checking = new Map<string, Promise<boolean>>()
  // device id -> credentials last read from the database (bounded), for logins while it is away
  const knownDevices = new Map<string, DeviceCredentials>()
  const rememberCredentials = (id: string, device: DeviceCredentials) => {
    if (knownDevices.size >= 1_000_000 && !knownDevices.has(id)) knownDevices.clear()
    knownDevices.set(id, device)
  }
  // remote address -> failures in the current minute
  const failures = new Map<string, { count: number; windowStart: number }>()

  const addressOf = (client: Client): string => {
    const conn = client.conn as { remoteAddress?: string } | undefined
    return conn?.remoteAddress ?? 'unknown'
  }
  const throttled = (address: string): boolean => {
    const f = failures.get(address)
    if (!f || now() - f.windowStart > 60_000) return false
    return f.count >= opts.failuresPerMinute
  }
  const fail = (client: Client, done: AuthDone, reason: BrokerRejectReason, username: string | undefined) => {
    const address = addressOf(client)
    const f = failures.get(address)
    if (!f || now() - f.windowStart > 60_000) failures.set(address, { count: 1, windowStart: now() })
    else f.count++
    if (failures.size > 100_000) failures.clear() // bound memory under a distributed attack
    opts.onReject(reason)
    opts.logger.warn({ clientId: client.id, username, address, reason }, 'MQTT login refused')
    refuse(done, reason === 'client_id_mismatch' || reason === 'revoked_device' ? NOT_AUTHORIZED : BAD_USERNAME_OR_PASSWORD, `login refused: ${reason}`)
  }

  return function authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: AuthDone): void {
    const address = addressOf(client)
    if (throttled(address)) {
      opts.onReject('throttled')
      opts.logger.warn({ clientId: client.id, username, address }, 'MQTT login throttled: too many failures from this address')
      refuse(done, NOT_AUTHORIZED, 'too many failed logins; try again in a minute')
      return
    }
    if (!username || !password) return fail(client, done, 'bad_credentials', username)
    const secret = password.toString('utf8')

    if (username.startsWith(SERVICE_USER_PREFIX)) {
      if (!safeEqual(secret, opts.serviceSecret)) return fail(client, done, 'bad_credentials', username)
      principals.set(client, { type: 'service', name: username })
      return done(null, true)
    }
    if (client.id !== username) return fail(client, done, 'client_id_mismatch', username)

    // While the database is away, a device that logged in before may still reconnect (its PUBLISHes
    // wait for the database anyway): the last credentials read for it stand in, so that a network
    // blip does not leave devices refused with "server unavailable", which many clients never retry.
    const lookup = opts.lookupDevice(username).then((device) => {
      if (device) rememberCredentials(username, device)
      else knownDevices.delete(username)
      return device
    }, (err: unknown) => {
      const known = knownDevices.get(username)
      if (!known) throw err
      opts.logger.warn({ username, err: (err as Error).message }, 'device lookup failed; using the credentials last read for this device')
      return known
    })
    lookup.then(async (device) => {
      if (!device) return fail(client, done, 'unknown_device', username)
      if (device.revoked) return fail(client, done, 'revoked_device', username)
      const pairKey = `${device.secretHash}\0${sha256(secret).toString('base64')}`
      const at = verified.get(pairKey)
      if (at === undefined || now() - at >= ttl) {
        let check = checking.get(pairKey)
        if (!check) {
          check = verifySecret(secret, device.secretHash).finally(() => checking.delete(pairKey))
          checking.set(pairKey, check)
        }
        if (!(await check)) return fail(client, done, 'bad_credentials', username)
        if (verified.size > 1_000_000) verified.clear()
        verified.set(pairKey, now())
      }
      principals.set(client, { type: 'device', deviceId: username, deviceKind: device.kind })
      done(null, true)
    }).catch((err: unknown) => {
      opts.logger.error({ err, username }, 'device lookup failed')
      refuse(done, 3, 'server unavailable') // 3 = server unavailable: the device retries later
    })
  }
}
