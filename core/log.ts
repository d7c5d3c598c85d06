// JSON logs with pino. Secrets and personal data are redacted wherever they appear in a logged object.
import { pino, type Logger } from 'pino'

export type { Logger }

export const REDACT_PATHS = [
  'password', '*.password', 'secret', '*.secret', 'secretHash', '*.secretHash', 'apiKey', '*.apiKey', 'api_key', '*.api_key',
  'authorization', '*.authorization', 'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie',
  'email', '*.email', 'phone', '*.phone', 'first_name', '*.first_name', 'last_name', '*.last_name', '*.contactName',
  // Personal data under the names the code uses (storage/reports.ts ReportContact, Open311 fields,
  // dashboard users and sessions, the CRM reference): docs/data-protection.md.
  'firstName', '*.firstName', 'lastName', '*.lastName', 'account_id', '*.account_id', 'accountId', '*.accountId',
  'contact', '*.contact', 'displayName', '*.displayName', 'crmRef', '*.crmRef', 'crm_ref', '*.crm_ref', 'token', '*.token',
]

/** Query parameters that may carry a credential (WebSocket clients and Open311 send `api_key`). */
const SECRET_PARAMS = new Set(['api_key', 'apikey', 'api-key', 'key', 'token', 'access_token'])

/**
 * A query-string name as the query parser may read it: percent-decoded (each valid escape, even when
 * others are malformed), `+` as a space, any case; then only its letters, `_` and `-` are compared,
 * so that `api_key[]`, `api_key%` or ` api_key` count too (redacting too much costs nothing).
 */
function paramName(raw: string): string {
  const decoded = raw.replace(/\+/g, ' ').replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  return decoded.toLowerCase().replace(/[^a-z_-]/g, '')
}

/**
 * Strip credentials from a URL's query string before it is logged, under every name the query
 * parser would read as one: any case, percent-encoded (`api%5Fkey`, `%61pi_key`), with `+`.
 */
export function redactUrl(url: string): string {
  const at = url.indexOf('?')
  if (at < 0) return url
  const pairs = url.slice(at + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    if (eq < 0) return pair
    const name = pair.slice(0, eq)
    // `api_key[]` or `api_key[0]`: the parser may read these as the same parameter.
    return SECRET_PARAMS.has(paramName(name)) ? `${name}=[redacted]` : pair
  })
  return `${url.slice(0, at + 1)}${pairs.join('&')}`
}

const serializers = {
  req: (req: { method?: string; url?: string; ip?: string; id?: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url ?? ''), remoteAddress: req.ip }),
  res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
  err: pino.stdSerializers.err,
}

export function createLogger(opts: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers,
    base: { service: opts.name ?? 'kerbside' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }
  return opts.destination ? pino(options, opts.destination) : pino(options)
}

/** A logger that writes nothing: for tests and library use where the caller passes none. */
export const silentLogger: Logger = pino({ level: 'silent' })
