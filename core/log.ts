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

/** Strip credentials that may travel in a query string (WebSocket clients, Open311) before a URL is logged. */
export const redactUrl = (url: string): string => url.replace(/([?&](?:api_key|key|token)=)[^&]*/gi, '$1[redacted]')

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
