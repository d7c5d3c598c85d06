// Webhook signatures in the style of Stripe's: `Kerbside-Signature: t=<unix seconds>,v1=<hex>`, where
// v1 is HMAC-SHA256 with the shared secret over `<t>.<raw body>`. Signing the timestamp with the body
// lets a receiver refuse replays of an old request. During a secret rotation Kerbside signs with every
// configured secret (one v1= each); a receiver accepts the request when any of them matches.
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'Kerbside-Signature'
/** How old a signed request may be before a receiver should refuse it (docs/crm-integration.md). */
export const DEFAULT_TOLERANCE_SECONDS = 300

const hmac = (secret: string, t: number, body: string): string => createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex')

export function signatureHeader(secrets: readonly string[], body: string, t: number): string {
  return [`t=${t}`, ...secrets.map((s) => `v1=${hmac(s, t, body)}`)].join(',')
}

/** True when the header carries a fresh timestamp and a v1 signature of `body` by one of `secrets`. */
export function verifySignature(header: string | undefined, body: string, secrets: readonly string[], opts: { now?: Date; toleranceSeconds?: number } = {}): boolean {
  if (!header) return false
  const parts = header.split(',').map((p) => p.trim().split('='))
  const t = Number(parts.find(([k]) => k === 't')?.[1])
  if (!Number.isSafeInteger(t)) return false
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000)
  if (Math.abs(now - t) > (opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false
  const given = parts.filter(([k, v]) => k === 'v1' && v !== undefined && /^[0-9a-f]{64}$/.test(v)).map(([, v]) => Buffer.from(v!, 'hex'))
  return secrets.some((s) => {
    const expected = Buffer.from(hmac(s, t, body), 'hex')
    return given.some((g) => timingSafeEqual(g, expected))
  })
}
