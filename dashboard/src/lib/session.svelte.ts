// Who is signed in, kept in sessionStorage (gone when the tab closes): either a dashboard user's
// session token (POST /api/v1/auth/login, expires) or an API key (kiosks and wall screens). Both
// travel as "Authorization: Bearer …". Signing in checks the credential with the API before keeping it.
import { ApiError, answer, api, signedIn } from './api-client.ts'
import type { LoginResponse, MapSummary } from './api-types.ts'

const STORAGE_KEY = 'kerbside.apiKey'
const META_KEY = 'kerbside.session'

export type Caller = MapSummary['caller']
export type SignInKind = 'password' | 'key'

/** Roles that can open the dashboard (the map summary); provisioning keys and users cannot. */
const DASHBOARD_ROLES: readonly string[] = ['admin', 'contract_manager', 'crm', 'viewer']

interface StoredMeta { kind: SignInKind; expiresAt: string | null; caller: Caller | null }

export class Session {
  /** The bearer credential: a session token (kss_…) or an API key. */
  key = $state<string | null>(null)
  kind = $state<SignInKind | null>(null)
  caller = $state<Caller | null>(null)
  /** When a password session ends on this browser's clock (from the API's expiresInSeconds: the server's clock may differ); null for API keys. */
  expiresAt = $state<string | null>(null)
  checking = $state(false)
  error = $state<string | null>(null)
  #expiry: ReturnType<typeof setTimeout> | null = null

  constructor(private storage: Storage | null = typeof sessionStorage === 'undefined' ? null : sessionStorage) {
    this.key = this.storage?.getItem(STORAGE_KEY) ?? null
    if (!this.key) return
    const meta = readMeta(this.storage?.getItem(META_KEY) ?? null)
    this.kind = meta?.kind ?? 'key'
    this.expiresAt = meta?.expiresAt ?? null
    this.caller = meta?.caller ?? null
    if (this.expiresAt && Date.parse(this.expiresAt) <= Date.now()) this.#forget('Your session has ended. Sign in again.')
    else this.#armExpiry()
  }

  get signedIn(): boolean {
    return this.key !== null
  }

  /** Sign in with a dashboard user's name and password. */
  async signInWithPassword(username: string, password: string): Promise<boolean> {
    const name = username.trim()
    if (!name || !password) {
      this.error = 'Enter your username and password.'
      return false
    }
    this.checking = true
    this.error = null
    try {
      const res = await answer<LoginResponse>(api.POST('/api/v1/auth/login', { body: { username: name, password }, ...signedIn(null) }))
      if (!DASHBOARD_ROLES.includes(res.user.role)) {
        await answer(api.POST('/api/v1/auth/logout', signedIn(res.token))).catch(() => undefined)
        throw new ApiError(403, 'KERBSIDE_ERR_FORBIDDEN', res.user.role)
      }
      // Timed from the answer on this browser's clock, not from the server's expiresAt: a browser whose
      // clock is hours ahead of the server's would otherwise sign out as soon as it signed in.
      const endsAt = new Date(Date.now() + res.expiresInSeconds * 1000).toISOString()
      this.#keep(res.token, 'password', endsAt, { name: res.user.displayName, role: res.user.role })
      return true
    } catch (err) {
      this.error = signInError(err, 'password')
      return false
    } finally {
      this.checking = false
    }
  }

  /** Sign in with an API key: checked with the API, kept only if accepted. */
  async signIn(key: string): Promise<boolean> {
    const trimmed = key.trim()
    if (!trimmed) {
      this.error = 'Enter your API key.'
      return false
    }
    this.checking = true
    this.error = null
    try {
      const summary = await answer<MapSummary>(api.GET('/api/v1/map/summary', signedIn(trimmed)))
      this.#keep(trimmed, 'key', null, summary.caller)
      return true
    } catch (err) {
      this.error = signInError(err, 'key')
      return false
    } finally {
      this.checking = false
    }
  }

  /** Re-read who the kept credential belongs to (after a reload); a refused one signs out. */
  async restore(): Promise<void> {
    if (!this.key) return
    try {
      this.caller = (await answer<MapSummary>(api.GET('/api/v1/map/summary', signedIn(this.key)))).caller
      this.#writeMeta()
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) this.#forget(signInError(err, this.kind ?? 'key'))
    }
  }

  /** Sign out; a password session is ended on the server too (best effort: the tab forgets it anyway). */
  async signOut(reason: string | null = null): Promise<void> {
    const key = this.key
    const kind = this.kind
    this.#forget(reason)
    if (key && kind === 'password') await answer(api.POST('/api/v1/auth/logout', signedIn(key))).catch(() => undefined)
  }

  #keep(key: string, kind: SignInKind, expiresAt: string | null, caller: Caller | null): void {
    this.key = key
    this.kind = kind
    this.expiresAt = expiresAt
    this.caller = caller
    this.storage?.setItem(STORAGE_KEY, key)
    this.#writeMeta()
    this.#armExpiry()
  }

  #writeMeta(): void {
    if (!this.kind) return
    const meta: StoredMeta = { kind: this.kind, expiresAt: this.expiresAt, caller: this.caller }
    this.storage?.setItem(META_KEY, JSON.stringify(meta))
  }

  /** Sign out when the session's time is up, rather than at the next failed call. */
  #armExpiry(): void {
    if (this.#expiry) clearTimeout(this.#expiry)
    this.#expiry = null
    if (!this.expiresAt) return
    const ms = Date.parse(this.expiresAt) - Date.now()
    // setTimeout holds at most ~24.8 days; longer sessions are checked by the API on every call.
    if (ms < 2 ** 31 - 1) this.#expiry = setTimeout(() => this.#forget('Your session has ended. Sign in again.'), Math.max(0, ms))
  }

  #forget(reason: string | null): void {
    if (this.#expiry) clearTimeout(this.#expiry)
    this.#expiry = null
    this.key = null
    this.kind = null
    this.caller = null
    this.expiresAt = null
    this.error = reason
    this.storage?.removeItem(STORAGE_KEY)
    this.storage?.removeItem(META_KEY)
  }
}

function readMeta(raw: string | null): StoredMeta | null {
  if (!raw) return null
  try {
    const v = JSON.parse(raw) as Partial<StoredMeta>
    if (v.kind !== 'password' && v.kind !== 'key') return null
    return { kind: v.kind, expiresAt: typeof v.expiresAt === 'string' ? v.expiresAt : null, caller: v.caller ?? null }
  } catch {
    return null
  }
}

function signInError(err: unknown, kind: SignInKind): string {
  if (err instanceof ApiError) {
    if (err.status === 401) {
      return kind === 'password'
        ? 'Unknown username or wrong password (401). Check them and try again, or ask your Kerbside administrator.'
        : 'That API key was not accepted (401). Check it and try again, or ask your Kerbside administrator for a key.'
    }
    if (err.status === 403) return 'Signed in, but this role cannot view the dashboard (403). A contract manager, contact centre or viewer account is needed.'
    if (err.status === 429) return 'Too many attempts. Wait a minute and try again.'
    if (err.status === 0) return err.message
    return `Sign-in failed: ${err.message}`
  }
  return 'Sign-in failed. Try again.'
}
