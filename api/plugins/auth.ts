// Who is calling: an API key (header `Authorization: Bearer <key>` or `X-Api-Key`; Open311 clients
// send `api_key` as the spec says), checked against the api_keys table or the bootstrap admin key,
// or a dashboard user's session token from POST /api/v1/auth/login.
// Routes declare the roles they accept with `onRequest: app.requireRole(...)`: the key is checked
// in onRequest, before fastify reads a body, so an unauthenticated upload is refused unread. The
// roles a route declares must agree with api/access-model.ts, checked as each route is added.
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { safeEqual } from '../../core/secrets.ts'
import type { Database } from '../../storage/database.ts'
import { verifyApiKey, type Role } from '../../storage/api-keys.ts'
import { sessionUser } from '../../storage/users.ts'
import { httpError } from '../errors.ts'

/**
 * Credentials that are not known from one client address per minute before that address is
 * answered 429 without a lookup. The general rate limit is per credential, so without this a client
 * sending a new made-up key each time would get a fresh allowance and a database lookup every time.
 */
export const UNKNOWN_CREDENTIALS_PER_MINUTE = 20

export interface Caller {
  keyId: string
  name: string
  role: Role
  /** The key's setting: Open311 answers carry FixMyStreet's additional attributes (false for sessions). */
  open311Extended?: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null
  }
  interface FastifyInstance {
    requireRole: (...roles: Role[]) => RoleHook
    /** Drop a revoked or changed key from this process's cache at once (other processes: within KEY_CACHE_MS). */
    forgetApiKey: (keyId: string) => void
    /**
     * Is the credential this request was let in with still valid, with the same role? Asks the
     * database again (no cache). For connections that outlive their request (the live feed); a
     * database that cannot answer counts as yes.
     */
    callerStillValid: (req: FastifyRequest) => Promise<boolean>
    /** Be told at once when this process revokes or changes a key (forgetApiKey); returns the unsubscribe. */
    onKeyForgotten: (listener: (keyId: string) => void) => () => void
  }
}

export interface AuthOptions {
  db: Database
  adminKey: string
}

export class AuthError extends Error {
  constructor(public statusCode: 401 | 403, message: string, public code: string) {
    super(message)
  }
}

/** How long a verified API key is trusted without asking the database again (the revocation bound across processes). */
export const KEY_CACHE_MS = 10_000

/** A requireRole hook carries its roles, so that the access model can be checked against routes. */
export const ROLES_OF = Symbol('kerbside.roles')
export type RoleHook = ((req: FastifyRequest, reply: FastifyReply) => Promise<void>) & { [ROLES_OF]: readonly Role[] }

function presentedKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim()
  const header = req.headers['x-api-key']
  if (typeof header === 'string') return header
  // Only Open311 POSTs carry the key in the body (their check runs after the body is parsed, see
  // routes/open311/access.ts); in onRequest there is no body yet.
  const fromBody = (req.body as { api_key?: unknown } | undefined)?.api_key
  if (typeof fromBody === 'string') return fromBody
  const fromQuery = (req.query as { api_key?: unknown } | undefined)?.api_key
  if (typeof fromQuery === 'string') return fromQuery
  return undefined
}

/**
 * A refused request's body is not wanted: answer with `Connection: close`, so that Node closes the
 * socket after the answer instead of reading (and discarding) the rest of an upload to keep the
 * connection alive.
 */
function refuseBody(req: FastifyRequest, reply: FastifyReply): void {
  if (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined) void reply.header('connection', 'close')
}

export const authPlugin = fp<AuthOptions>(async (app, opts) => {
  app.decorateRequest('caller', null)
  // Cache verified API keys for a short time: one digest lookup per key per KEY_CACHE_MS, not per
  // request. Revoking through this process drops the entry at once; another process of the same
  // deployment notices within KEY_CACHE_MS.
  const cache = new Map<string, { caller: Caller | null; at: number }>()

  const failures = new Map<string, { n: number; since: number }>()
  function throttled(ip: string): number | null {
    const f = failures.get(ip)
    if (!f || Date.now() - f.since >= 60_000) return null
    return f.n >= UNKNOWN_CREDENTIALS_PER_MINUTE ? Math.ceil((f.since + 60_000 - Date.now()) / 1000) : null
  }
  function failed(ip: string): void {
    const f = failures.get(ip)
    if (!f || Date.now() - f.since >= 60_000) {
      if (failures.size > 10_000) failures.clear()
      failures.set(ip, { n: 1, since: Date.now() })
    } else f.n++
  }

  async function identify(req: FastifyRequest): Promise<Caller | null> {
    const key = presentedKey(req)
    if (!key) return null
    const known = cache.get(key)
    // The bootstrap admin key needs no lookup, so an address being throttled does not lock the
    // operator out (a client behind an unlisted proxy shares the proxy's address with everyone).
    if (!(known?.caller && Date.now() - known.at < KEY_CACHE_MS) && !safeEqual(key, opts.adminKey)) {
      const wait = throttled(req.ip)
      if (wait !== null) throw httpError(429, 'KERBSIDE_ERR_RATE_LIMITED', `Too many unknown API keys or sessions from this address; retry in ${wait} s.`)
    }
    const caller = await lookUp(key)
    if (!caller) failed(req.ip)
    return caller
  }

  async function lookUp(key: string): Promise<Caller | null> {
    if (safeEqual(key, opts.adminKey)) return { keyId: 'bootstrap', name: 'bootstrap admin', role: 'admin' }
    if (key.startsWith('kss_')) {
      // A dashboard user's session (POST /api/v1/auth/login): not cached, so that signing out or
      // disabling a user takes effect at once.
      const user = await sessionUser(opts.db, key)
      return user ? { keyId: `user:${user.username}`, name: user.displayName, role: user.role } : null
    }
    const hit = cache.get(key)
    if (hit && Date.now() - hit.at < KEY_CACHE_MS) return hit.caller
    const info = await verifyApiKey(opts.db, key)
    const caller = info ? { keyId: info.keyId, name: info.name, role: info.role, open311Extended: info.open311Extended } : null
    if (cache.size > 10_000) cache.clear()
    cache.set(key, { caller, at: Date.now() })
    return caller
  }

  const forgottenListeners = new Set<(keyId: string) => void>()
  app.decorate('forgetApiKey', (keyId: string) => {
    for (const [key, entry] of cache) if (entry.caller?.keyId === keyId) cache.delete(key)
    for (const listener of forgottenListeners) listener(keyId)
  })
  app.decorate('onKeyForgotten', (listener: (keyId: string) => void) => {
    forgottenListeners.add(listener)
    return () => { forgottenListeners.delete(listener) }
  })

  // The credential each request was let in with, for callerStillValid; never logged or serialised.
  const presented = new WeakMap<FastifyRequest, string>()
  app.decorate('callerStillValid', async (req: FastifyRequest): Promise<boolean> => {
    const key = presented.get(req)
    const was = req.caller
    if (!key || !was) return false
    cache.delete(key)
    const now = await lookUp(key).catch(() => was)
    return now !== null && now.keyId === was.keyId && now.role === was.role
  })

  app.decorate('requireRole', (...roles: Role[]): RoleHook => {
    const hook = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      req.caller = await identify(req).catch((err: unknown) => { refuseBody(req, reply); throw err })
      if (req.caller) presented.set(req, presentedKey(req)!)
      if (!req.caller || (req.caller.role !== 'admin' && !roles.includes(req.caller.role))) refuseBody(req, reply)
      if (!req.caller) throw new AuthError(401, 'An API key is required: send it as "Authorization: Bearer <key>" or "X-Api-Key".', 'KERBSIDE_ERR_UNAUTHENTICATED')
      if (req.caller.role !== 'admin' && !roles.includes(req.caller.role)) {
        throw new AuthError(403, `This needs one of the roles ${roles.join(', ')}; your key has the role ${req.caller.role}.`, 'KERBSIDE_ERR_FORBIDDEN')
      }
    }
    return Object.assign(hook, { [ROLES_OF]: roles })
  })
}, { name: 'kerbside-auth' })
