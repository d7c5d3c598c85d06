// When a Kerbside process already owns the embedded database, provisioning commands go through
// its API instead (same operations, same admin key), so `kerbside devices add` works either way.
import type { Config } from '../core/config.ts'
import { loadLocalSecrets } from '../core/local-secrets.ts'

export class ApiClientError extends Error {}

/** The running Kerbside's API base and the admin key from its data folder. */
export function localApiBase(config: Config): { base: string; adminKey: string } {
  const { adminKey } = loadLocalSecrets(config.KERBSIDE_DATA_DIR, { adminKey: config.KERBSIDE_ADMIN_KEY, serviceSecret: config.KERBSIDE_SERVICE_SECRET })
  const scheme = config.HTTP_TLS_CERT ? 'https' : 'http'
  return { base: `${scheme}://127.0.0.1:${config.HTTP_PORT}/api/v1`, adminKey }
}

/** One request; the answer whatever its status (the caller reads error bodies that carry a report). */
export async function rawApiCall(config: Config, method: string, path: string, body?: { type: string; data: string }): Promise<Response> {
  const { base, adminKey } = localApiBase(config)
  try {
    return await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${adminKey}`, ...(body ? { 'content-type': body.type } : {}) }, body: body?.data })
  } catch (err) {
    throw new ApiClientError(`The database is in use by a running Kerbside, but its API at ${base} did not answer (${(err as Error).message}). Is HTTP_PORT the same as the running one's?`)
  }
}

export function localApi(config: Config) {
  return async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await rawApiCall(config, method, path, body === undefined ? undefined : { type: 'application/json', data: JSON.stringify(body) })
    if (!res.ok) throw new ApiClientError(`${method} ${path}: ${res.status} ${((await res.json().catch(() => ({}))) as { message?: string }).message ?? res.statusText}`)
    return (res.status === 204 ? undefined : await res.json()) as T
  }
}
