// When a Kerbside process already owns the embedded database, provisioning commands go through
// its API instead (same operations, same admin key), so `kerbside devices add` works either way.
// The calls use the client generated from the OpenAPI document (api/client/openapi-types.ts, `npm
// run generate:client`) with openapi-fetch: paths, parameters and answers are checked against the
// routes, so the CLI hand-writes no route.
import createClient, { type Client } from 'openapi-fetch'
import type { paths } from '../api/client/openapi-types.ts'
import type { Config } from '../core/config.ts'
import { loadLocalSecrets } from '../core/local-secrets.ts'

export class ApiClientError extends Error {
  /** The API's status (0: it did not answer). */
  constructor(message: string, public status = 0) {
    super(message)
    this.name = 'ApiClientError'
  }
}

/** The running Kerbside's origin and the admin key from its data folder. */
export function localApiBase(config: Config): { base: string; adminKey: string } {
  const { adminKey } = loadLocalSecrets(config.KERBSIDE_DATA_DIR, { adminKey: config.KERBSIDE_ADMIN_KEY, serviceSecret: config.KERBSIDE_SERVICE_SECRET })
  const scheme = config.HTTP_TLS_CERT ? 'https' : 'http'
  return { base: `${scheme}://127.0.0.1:${config.HTTP_PORT}`, adminKey }
}

export type LocalApi = Client<paths>

/** The generated client on the running Kerbside, with the admin key; an unreachable API is an ApiClientError. */
export function localApi(config: Config): LocalApi {
  const { base, adminKey } = localApiBase(config)
  return createClient<paths>({
    baseUrl: base,
    headers: { authorization: `Bearer ${adminKey}` },
    fetch: async (request) => {
      try {
        return await fetch(request)
      } catch (err) {
        throw new ApiClientError(`The database is in use by a running Kerbside, but its API at ${base} did not answer (${(err as Error).message}). Is HTTP_PORT the same as the running one's?`)
      }
    },
  })
}

/** What one openapi-fetch call gives back. */
interface Answer<T> { data?: T; error?: unknown; response: Response }

/** The answer's data; otherwise an ApiClientError saying the call, the status and the API's message. */
export async function answer<T>(pending: Promise<Answer<T>>, what: string): Promise<T> {
  const { data, error, response } = await pending
  if (!response.ok) {
    const message = (error as { message?: unknown } | undefined)?.message
    throw new ApiClientError(`${what}: ${response.status} ${typeof message === 'string' ? message : response.statusText}`, response.status)
  }
  return data as T
}

/** For "revoke"-like calls: a 404 means there was nothing to act on (false), not a failure. */
export const falseWhenNotFound = (err: unknown): false => {
  if (err instanceof ApiClientError && err.status === 404) return false
  throw err
}

/** …and the same for reads that answer null when nothing is found. */
export const nullWhenNotFound = (err: unknown): null => {
  if (err instanceof ApiClientError && err.status === 404) return null
  throw err
}
