// Calls to the Kerbside API with the signed-in key or session token. Errors keep the API's status
// and message, so that screens can say what went wrong (401: signed out, 403: role, 5xx: try again).
import type { ErrorBody } from './api-types.ts'

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message)
    this.name = 'ApiError'
  }
}

async function call<T>(path: string, init: RequestInit): Promise<T> {
  return readResponse<T>(fetch(path, init))
}

async function readResponse<T>(pending: Promise<Response>): Promise<T> {
  let res: Response
  try {
    res = await pending
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new ApiError(0, 'KERBSIDE_ERR_NETWORK', 'Kerbside could not be reached. Check the connection and try again.')
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as Partial<ErrorBody> | null
    throw new ApiError(res.status, body?.code ?? 'KERBSIDE_ERR_HTTP', body?.message ?? `The API answered ${res.status} ${res.statusText}.`)
  }
  if (res.status === 204) return undefined as T
  return (await res.json()) as T
}

/** A request the page started before the application loaded (public/early-map.js). */
interface EarlyRequest { path: string; key: string; response: Promise<Response> }
declare global { interface Window { kerbsideEarly?: EarlyRequest } }

/** GET, taking the page's early request for the same path and credential if it is still unused (once). */
export function apiGetEarly<T>(path: string, key: string, signal?: AbortSignal): Promise<T> {
  const early = typeof window === 'undefined' ? undefined : window.kerbsideEarly
  if (early && early.path === path && early.key === key) {
    window.kerbsideEarly = undefined
    return readResponse<T>(early.response)
  }
  return apiGet<T>(path, key, signal)
}

/** GET a JSON resource; `key` goes in the Authorization header, never in the URL. */
export function apiGet<T>(path: string, key: string, signal?: AbortSignal): Promise<T> {
  return call<T>(path, { headers: { authorization: `Bearer ${key}`, accept: 'application/json' }, signal })
}

/** POST JSON; without a key for sign-in itself. */
export function apiPost<T>(path: string, body: unknown, key: string | null = null): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (key) headers.authorization = `Bearer ${key}`
  return call<T>(path, { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) })
}

/** A query string from the parameters that are set. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}

/** A sentence for people, from any error a load may throw. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'You are no longer signed in (your session ended or the key was not accepted). Sign in again.'
    if (err.status === 403) return `Your role cannot open this. ${err.message}`
    if (err.status >= 500) return 'Kerbside had a problem answering. It has been logged; try again in a moment.'
    return err.message
  }
  return err instanceof Error ? err.message : String(err)
}
