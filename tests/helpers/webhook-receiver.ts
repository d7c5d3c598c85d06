// A CRM's webhook endpoint for tests: a real HTTP server (node:http) on a fixed local port that can be
// down (not listening), answer 5xx, answer normally, or take a request and never answer (to kill the
// sender mid-delivery). It checks every signature the way docs/crm-integration.md tells a CRM to, with
// its own code, and records every request it received.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedRequest {
  idempotencyKey: string
  eventId: number
  type: string
  body: string
  signatureValid: boolean
  answered: number | 'held'
}

export type Answer = number | 'hold'

export interface Receiver {
  port: number
  url: string
  received: ReceivedRequest[]
  /** Idempotency keys answered 2xx */
  acknowledged: Set<string>
  distinctKeys(): Set<string>
  /** How to answer the next request (default 200); `answer` may look at the request. */
  answer: (r: Omit<ReceivedRequest, 'answered'>, n: number) => Answer
  /** Resolves when a request was held (answer 'hold'). */
  held(): Promise<void>
  listen(): Promise<void>
  /** Stop listening and drop every connection (the CRM goes down). */
  close(): Promise<void>
}

/** Verify `Kerbside-Signature: t=<unix>,v1=<hex>[,v1=<hex>]` over `<t>.<raw body>`. */
export function verifyKerbsideSignature(header: string | undefined, rawBody: string, secret: string, toleranceSeconds = 300): boolean {
  if (!header) return false
  let t = NaN
  const signatures: string[] = []
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=')
    if (k === 't') t = Number(v)
    if (k === 'v1' && v) signatures.push(v)
  }
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest()
  return signatures.some((s) => {
    const given = Buffer.from(s, 'hex')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}

/** A free local port (nothing listens on it when this resolves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

export async function createReceiver(secret: string, path = '/kerbside/events'): Promise<Receiver> {
  const port = await freePort()
  let server: Server | null = null
  let onHeld: (() => void) | null = null
  let heldPromise = new Promise<void>((r) => { onHeld = r })
  const receiver: Receiver = {
    port,
    url: `http://127.0.0.1:${port}${path}`,
    received: [],
    acknowledged: new Set(),
    distinctKeys: () => new Set(receiver.received.map((r) => r.idempotencyKey)),
    answer: () => 200,
    held: () => heldPromise,
    async listen() {
      server = createServer((req, res) => void handle(req, res))
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject)
        server!.listen(port, '127.0.0.1', () => resolve())
      })
    },
    async close() {
      if (!server) return
      const s = server
      server = null
      s.closeAllConnections()
      await new Promise<void>((resolve) => s.close(() => resolve()))
    },
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const event = JSON.parse(body) as { id: number; type: string; idempotencyKey: string }
    const request = {
      idempotencyKey: String(req.headers['idempotency-key']), eventId: event.id, type: event.type, body,
      signatureValid: verifyKerbsideSignature(req.headers['kerbside-signature'] as string | undefined, body, secret) && req.headers['idempotency-key'] === event.idempotencyKey,
    }
    const answer = receiver.answer(request, receiver.received.length)
    if (answer === 'hold') {
      receiver.received.push({ ...request, answered: 'held' })
      onHeld?.()
      heldPromise = new Promise<void>((r) => { onHeld = r })
      return // never answered: the sender times out, or dies
    }
    receiver.received.push({ ...request, answered: answer })
    if (answer >= 200 && answer < 300) receiver.acknowledged.add(request.idempotencyKey)
    res.writeHead(answer, { 'content-type': 'application/json' }).end(JSON.stringify(answer < 300 ? { ok: true } : { error: 'CRM unavailable' }))
  }

  return receiver
}
