// Calls to the Kerbside API through the client generated from its OpenAPI document
// (api/client/openapi-types.ts, written by `npm run generate:client`, called with openapi-fetch):
// paths, parameters and answers are checked against the routes, so no screen hand-writes a URL or
// an answer's shape. The signed-in key or session token goes in the Authorization header, never in
// the URL. Errors keep the API's status and message, so that screens can say what went wrong (401:
// signed out, 403: role, 5xx: try again).
import createClient from 'openapi-fetch'
import type { paths } from '../../../api/client/openapi-types.ts'
import type { ErrorBody } from './api-types.ts'

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message)
    this.name = 'ApiError'
  }
}

/**
 * The generated client, on relative URLs as from the page the API serves. fetch is looked up at each
 * call, not captured once, so that what the page (or a test) has in place is what is used.
 */
export const api = createClient<paths>({ baseUrl: '', fetch: (request) => globalThis.fetch(request), querySerializer: setParameters })

/** The query string of the parameters that are set (an empty text, null or undefined is left out). */
function setParameters(params: Record<string, unknown>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    for (const one of Array.isArray(v) ? v : [v]) if (one !== null && one !== undefined && one !== '') q.append(k, String(one))
  }
  return q.toString()
}

/** Credentials and cancellation for one call: `api.GET(path, { params, ...signedIn(key, signal) })`. */
export function signedIn(key: string | null, signal?: AbortSignal): { headers: Record<string, string>; signal?: AbortSignal } {
  return { headers: key ? { authorization: `Bearer ${key}`, accept: 'application/json' } : { accept: 'application/json' }, signal }
}

/** What one openapi-fetch call gives back. */
interface Answer<T> { data?: T; error?: unknown; response: Response }

/** The answer's data; an ApiError with the API's status, code and message otherwise (status 0: not reached). */
export async function answer<T>(pending: Promise<Answer<T>>): Promise<T> {
  let result: Answer<T>
  try {
    result = await pending
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new ApiError(0, 'KERBSIDE_ERR_NETWORK', 'Kerbside could not be reached. Check the connection and try again.')
  }
  const { response } = result
  if (!response.ok) {
    const body = (typeof result.error === 'object' && result.error !== null ? result.error : null) as Partial<ErrorBody> | null
    throw new ApiError(response.status, body?.code ?? 'KERBSIDE_ERR_HTTP', body?.message ?? `The API answered ${response.status} ${response.statusText}.`)
  }
  return result.data as T
}

/** A request the page started before the application loaded (public/early-map.js). */
interface EarlyRequest { path: string; key: string; response: Promise<Response> }
declare global { interface Window { kerbsideEarly?: EarlyRequest } }

/**
 * The page's early request for this path and credential if it is still unused (taken once), as a
 * `fetch` for the generated client's call: `api.GET(path, { fetch: earlyFetch(path, key), ... })`.
 */
export function earlyFetch(path: string, key: string): (() => Promise<Response>) | undefined {
  const early = typeof window === 'undefined' ? undefined : window.kerbsideEarly
  if (!early || early.path !== path || early.key !== key) return undefined
  window.kerbsideEarly = undefined
  return () => early.response
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
