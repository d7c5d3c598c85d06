// Webhook signatures (Stripe style) and the retry policy, as pure functions.
import { createHmac } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { signatureHeader, verifySignature } from '../../../analysis/crm-feed/signature.ts'
import { backoffDelayMs, classifyResponse, DEFAULT_RETRY_POLICY } from '../../../analysis/crm-feed/retry-policy.ts'
import { verifyKerbsideSignature } from '../../helpers/webhook-receiver.ts'

const BODY = '{"id":1,"type":"report.closed"}'
const T = 1_775_000_000

describe('signature', () => {
  test('t=<unix>,v1=HMAC-SHA256(secret, "<t>.<body>") in hex', () => {
    const expected = createHmac('sha256', 'whsec-one-0123456789').update(`${T}.${BODY}`).digest('hex')
    expect(signatureHeader(['whsec-one-0123456789'], BODY, T)).toBe(`t=${T},v1=${expected}`)
  })

  test('verifies; refuses another body, another secret, an old timestamp', () => {
    const now = new Date(T * 1000 + 60_000)
    const header = signatureHeader(['whsec-one-0123456789'], BODY, T)
    expect(verifySignature(header, BODY, ['whsec-one-0123456789'], { now })).toBe(true)
    expect(verifySignature(header, BODY.replace('1', '2'), ['whsec-one-0123456789'], { now })).toBe(false)
    expect(verifySignature(header, BODY, ['whsec-two-0123456789'], { now })).toBe(false)
    expect(verifySignature(header, BODY, ['whsec-one-0123456789'], { now: new Date(T * 1000 + 301_000) })).toBe(false)
    expect(verifySignature(undefined, BODY, ['whsec-one-0123456789'], { now })).toBe(false)
    expect(verifySignature(`t=${T},v1=zz`, BODY, ['whsec-one-0123456789'], { now })).toBe(false)
  })

  test('during a rotation both secrets sign, and a receiver with either accepts', () => {
    const header = signatureHeader(['old-secret-0123456789', 'new-secret-0123456789'], BODY, Math.floor(Date.now() / 1000))
    expect(header.match(/v1=/g)).toHaveLength(2)
    // The receiver code of docs/crm-integration.md, written independently of Kerbside's.
    expect(verifyKerbsideSignature(header, BODY, 'old-secret-0123456789')).toBe(true)
    expect(verifyKerbsideSignature(header, BODY, 'new-secret-0123456789')).toBe(true)
    expect(verifyKerbsideSignature(header, BODY, 'other-secret-0123456789')).toBe(false)
  })
})

describe('retry policy', () => {
  test('2xx delivered; 408, 429 and 5xx retried; other 4xx and 3xx refused', () => {
    expect(classifyResponse(204, '', null)).toEqual({ kind: 'delivered', statusCode: 204 })
    for (const code of [408, 429, 500, 502, 503, 504]) expect(classifyResponse(code, '', null).kind).toBe('retry')
    for (const code of [400, 401, 403, 404, 410, 422, 301, 302]) expect(classifyResponse(code, '', null).kind).toBe('refused')
    expect(classifyResponse(429, 'slow down', '120')).toEqual({ kind: 'retry', statusCode: 429, error: 'HTTP 429: slow down', retryAfterMs: 120_000 })
  })

  test('exponential backoff with equal jitter, capped; Retry-After honoured up to the cap', () => {
    const p = DEFAULT_RETRY_POLICY
    expect(backoffDelayMs(1, p, () => 0)).toBe(15_000)
    expect(backoffDelayMs(1, p, () => 1)).toBe(30_000)
    expect(backoffDelayMs(4, p, () => 1)).toBe(240_000)
    expect(backoffDelayMs(30, p, () => 1)).toBe(6 * 3_600_000)
    expect(backoffDelayMs(1, p, () => 0, 120_000)).toBe(120_000)
    expect(backoffDelayMs(1, p, () => 0, 48 * 3_600_000)).toBe(6 * 3_600_000)
    // 20 attempts: 1.3 to 2.6 days of trying, whatever the jitter.
    const days = (r: number) => Array.from({ length: p.maxAttempts - 1 }, (_, i) => backoffDelayMs(i + 1, p, () => r)).reduce((a, b) => a + b, 0) / 86_400_000
    expect(days(0)).toBeGreaterThan(1.3)
    expect(days(1)).toBeLessThan(2.7)
  })
})
