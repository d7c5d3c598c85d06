// One webhook request: the event as JSON, signed, with its idempotency key, and a verdict on the answer.
import type { CrmEvent } from '../../core/contract/crm-events.ts'
import { classifyResponse, type Verdict } from './retry-policy.ts'
import { SIGNATURE_HEADER, signatureHeader } from './signature.ts'

export const USER_AGENT = 'Kerbside-Webhooks/1'

export interface SendOptions {
  secrets: readonly string[]
  timeoutMs: number
  /** Aborts the request when the worker stops; the attempt is then not counted. */
  signal: AbortSignal
  now?: () => Date
}

export type SendResult = Verdict | { kind: 'interrupted' }

export async function sendWebhook(url: string, event: CrmEvent, opts: SendOptions): Promise<SendResult> {
  const body = JSON.stringify(event)
  const t = Math.floor((opts.now?.() ?? new Date()).getTime() / 1000)
  try {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'idempotency-key': event.idempotencyKey,
        'kerbside-event-id': String(event.id),
        'kerbside-event-type': event.type,
        [SIGNATURE_HEADER]: signatureHeader(opts.secrets, body, t),
      },
      signal: AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]),
    })
    // Read a little of the answer for the delivery log (and to free the connection).
    const text = await res.text().catch(() => '')
    return classifyResponse(res.status, text.trim(), res.headers.get('retry-after'))
  } catch (err) {
    if (opts.signal.aborted) return { kind: 'interrupted' }
    return { kind: 'retry', statusCode: null, error: describeNetworkError(err, opts.timeoutMs) }
  }
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } }
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`
  const cause = e.cause?.code ?? e.cause?.message
  return cause ? `${e.message} (${cause})` : e.message
}
