// When a Kerbside process already owns the embedded database, provisioning commands go through
// its API instead (same operations, same admin key), so `kerbside devices add` works either way.
import type { Config } from '../core/config.ts'
import { loadLocalSecrets } from '../core/local-secrets.ts'

export class ApiClientError extends Error {}

export function localApi(config: Config) {
  const { adminKey } = loadLocalSecrets(config.KERBSIDE_DATA_DIR, { adminKey: config.KERBSIDE_ADMIN_KEY, serviceSecret: config.KERBSIDE_SERVICE_SECRET })
  const scheme = config.HTTP_TLS_CERT ? 'https' : 'http'
  const base = `${scheme}://127.0.0.1:${config.HTTP_PORT}/api/v1`
  return async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response
    try {
      res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
    } catch (err) {
      throw new ApiClientError(`The database is in use by a running Kerbside, but its API at ${base} did not answer (${(err as Error).message}). Is HTTP_PORT the same as the running one's?`)
    }
    if (!res.ok) throw new ApiClientError(`${method} ${path}: ${res.status} ${((await res.json().catch(() => ({}))) as { message?: string }).message ?? res.statusText}`)
    return (res.status === 204 ? undefined : await res.json()) as T
  }
}
