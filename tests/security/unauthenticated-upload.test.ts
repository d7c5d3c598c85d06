// Regression for issue 19 (MEDIUM, unauthenticated uploads buffered): a 60 MB POST to
// /api/v1/registry/import without a key was read whole (~150 MB of memory in the process that also
// runs the broker and ingest) before the 401. Now the key is checked in onRequest, before fastify
// reads a byte of the body, and the refusal closes the connection instead of draining the upload.
// Measured over a real socket: the bytes the server's socket read, and the process's memory.
import { connect, type Socket } from 'node:net'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'

const BODY_BYTES = 60 * 1024 * 1024
let db: Database
let app: Api
let port: number
const serverSockets: Socket[] = []

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: 'admin-key-for-upload-tests-000000' })
  app.server.on('connection', (s: Socket) => serverSockets.push(s))
  await app.listen({ host: '127.0.0.1', port: 0 })
  port = (app.server.address() as { port: number }).port
})
afterAll(async () => { await app?.close(); await db?.close() })

/** Send the headers, then stream the body until the server answers and closes; the answer's status line. */
function upload(headers: Record<string, string>): Promise<{ status: string; clientWrote: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunk = Buffer.alloc(256 * 1024, 0x61)
    let wrote = 0
    let answer = ''
    let stopped = false
    const pump = () => {
      while (!stopped && wrote < BODY_BYTES) {
        wrote += chunk.length
        if (!socket.write(chunk)) return void socket.once('drain', pump)
      }
    }
    socket.on('connect', () => {
      socket.write(`POST /api/v1/registry/import HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Length: ${BODY_BYTES}\r\n\r\n`)
      pump()
    })
    socket.on('data', (d) => { answer += d.toString('latin1') })
    socket.on('error', () => { stopped = true }) // EPIPE/ECONNRESET once the server closed: expected
    socket.on('close', () => {
      stopped = true
      const status = answer.split('\r\n')[0] ?? ''
      if (!status) reject(new Error(`no answer (client wrote ${wrote} bytes)`))
      else resolve({ status, clientWrote: wrote })
    })
  })
}

test('a 60 MB POST without a key to /api/v1/registry/import: 401 before the body is read', async () => {
  global.gc?.()
  const before = process.memoryUsage()
  const res = await upload({ 'Content-Type': 'application/json' })
  const after = process.memoryUsage()
  const serverRead = serverSockets.at(-1)!.bytesRead
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1)
  console.error(`60 MB unauthenticated upload: ${res.status}; server socket read ${mb(serverRead)} MB, client managed to write ${mb(res.clientWrote)} MB; `
    + `rss ${mb(before.rss)} -> ${mb(after.rss)} MB (+${mb(after.rss - before.rss)}), arrayBuffers ${mb(before.arrayBuffers)} -> ${mb(after.arrayBuffers)} MB`)
  expect(res.status).toBe('HTTP/1.1 401 Unauthorized')
  // The point: bytes read by the server, against a 60 MB body (socket buffers account for a few MB).
  expect(serverRead).toBeLessThan(8 * 1024 * 1024)
  expect(after.rss - before.rss).toBeLessThan(30 * 1024 * 1024)
})

test('a wrong key is refused the same way; the 413 limit for other routes is small', async () => {
  const res = await upload({ 'Content-Type': 'text/csv', Authorization: 'Bearer ks_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' })
  expect(res.status).toBe('HTTP/1.1 401 Unauthorized')
  expect(serverSockets.at(-1)!.bytesRead).toBeLessThan(8 * 1024 * 1024)
  const big = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ username: 'x', password: 'y'.repeat(300 * 1024) }) })
  expect(big.statusCode).toBe(413)
})
