// Calls to the Kerbside API with the signed-in key. Errors keep the API's status and message, so
// that screens can say what went wrong (401: key refused, 403: role, 5xx: try again).
import type { ErrorBody } from './api-types.ts'

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message)
    this.name = 'ApiError'
  }
}

/** GET a JSON resource; `key` goes in the Authorization header, never in the URL. */
export async function apiGet<T>(path: string, key: string, signal?: AbortSignal): Promise<T> {
  let res: Response
  try {
    res = await fetch(path, { headers: { authorization: `Bearer ${key}`, accept: 'application/json' }, signal })
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new ApiError(0, 'KERBSIDE_ERR_NETWORK', 'Kerbside could not be reached. Check the connection and try again.')
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as Partial<ErrorBody> | null
    throw new ApiError(res.status, body?.code ?? 'KERBSIDE_ERR_HTTP', body?.message ?? `The API answered ${res.status} ${res.statusText}.`)
  }
  return (await res.json()) as T
}

/** A sentence for people, from any error a load may throw. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'Your API key was not accepted. Sign in again with a valid key.'
    if (err.status === 403) return `Your API key cannot open this. ${err.message}`
    if (err.status >= 500) return 'Kerbside had a problem answering. It has been logged; try again in a moment.'
    return err.message
  }
  return err instanceof Error ? err.message : String(err)
}
