// When to try a webhook again. A CRM that is down (5xx, 408, 429, a timeout, a refused or reset
// connection) is retried with exponential backoff and jitter until the attempts run out; any other
// 4xx is a refusal that repeating will not change (a bad signature, an unknown household) and goes to
// the dead letters at once, where an operator can requeue it. Redirects are not followed: the
// signature covers the request as sent, and a POST that is redirected becomes a GET.

export interface RetryPolicy {
  /** Attempts before a delivery is dead-lettered. */
  maxAttempts: number
  /** Backoff after the first failure; doubles with each further failure. */
  baseDelayMs: number
  maxDelayMs: number
}

// 20 attempts, waiting 30 s, 1 min, 2 min … up to 6 h between them: with the jitter, 1.3 to 2.6 days
// of trying (a CRM's weekend maintenance window) before a person is asked to look.
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 20, baseDelayMs: 30_000, maxDelayMs: 6 * 3_600_000 }

export type Verdict =
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'retry'; statusCode: number | null; error: string; retryAfterMs?: number }
  | { kind: 'refused'; statusCode: number | null; error: string }

export function classifyResponse(statusCode: number, body: string, retryAfter: string | null): Verdict {
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered', statusCode }
  const error = `HTTP ${statusCode}${body ? `: ${body.slice(0, 200)}` : ''}`
  if (statusCode === 408 || statusCode === 429 || statusCode >= 500) return { kind: 'retry', statusCode, error, retryAfterMs: retryAfterMs(retryAfter) }
  if (statusCode >= 300 && statusCode < 400) return { kind: 'refused', statusCode, error: `${error} (redirects are not followed; configure the final URL)` }
  return { kind: 'refused', statusCode, error }
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * Delay before attempt `failures + 1`: base · 2^(failures − 1), capped, with "equal jitter" (half
 * fixed, half random), so that deliveries that failed together do not all come back at once.
 * A Retry-After from the CRM is honoured when it asks for longer, up to the cap.
 */
export function backoffDelayMs(failures: number, p: RetryPolicy, random: () => number = Math.random, retryAfter?: number): number {
  const exp = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.max(0, failures - 1))
  const jittered = exp / 2 + random() * (exp / 2)
  return Math.min(p.maxDelayMs, Math.max(jittered, retryAfter ?? 0))
}
