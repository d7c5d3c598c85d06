// Who is signed in: the API key, kept in sessionStorage (gone when the tab closes), and what the
// API says about it. Signing in checks the key against the API before keeping it.
import { ApiError, apiGet } from './api-client.ts'
import type { MapSummary } from './api-types.ts'

const STORAGE_KEY = 'kerbside.apiKey'

export type Caller = MapSummary['caller']

export class Session {
  key = $state<string | null>(null)
  caller = $state<Caller | null>(null)
  checking = $state(false)
  error = $state<string | null>(null)

  constructor(private storage: Storage | null = typeof sessionStorage === 'undefined' ? null : sessionStorage) {
    this.key = this.storage?.getItem(STORAGE_KEY) ?? null
  }

  get signedIn(): boolean {
    return this.key !== null
  }

  /** Check the key with the API; keep it only if it is accepted. */
  async signIn(key: string): Promise<boolean> {
    const trimmed = key.trim()
    if (!trimmed) {
      this.error = 'Enter your API key.'
      return false
    }
    this.checking = true
    this.error = null
    try {
      const summary = await apiGet<MapSummary>('/api/v1/map/summary', trimmed)
      this.key = trimmed
      this.caller = summary.caller
      this.storage?.setItem(STORAGE_KEY, trimmed)
      return true
    } catch (err) {
      this.error = signInError(err)
      return false
    } finally {
      this.checking = false
    }
  }

  /** Re-read who the kept key belongs to (after a reload); a refused key signs out. */
  async restore(): Promise<void> {
    if (!this.key) return
    try {
      this.caller = (await apiGet<MapSummary>('/api/v1/map/summary', this.key)).caller
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) this.signOut(signInError(err))
    }
  }

  signOut(reason: string | null = null): void {
    this.key = null
    this.caller = null
    this.error = reason
    this.storage?.removeItem(STORAGE_KEY)
  }
}

function signInError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'That API key was not accepted (401). Check it and try again, or ask your Kerbside administrator for a key.'
    if (err.status === 403) return 'That API key is valid but its role cannot view the dashboard (403). A contract manager, CRM or viewer key is needed.'
    if (err.status === 429) return 'Too many attempts. Wait a minute and try again.'
    if (err.status === 0) return err.message
    return `Sign-in failed: ${err.message}`
  }
  return 'Sign-in failed. Try again.'
}
