// The one live connection against a real WebSocket server: events in, junk dropped, reconnects.
import { once } from 'node:events'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { afterEach, expect, test } from 'vitest'
import type { WebSocket as ServerSocket, WebSocketServer as Wss } from 'ws'
import { backoffDelay, LiveConnection, parseLiveEvent } from '../../dashboard/src/lib/live-connection.svelte.ts'
import type { LiveEvent } from '../../dashboard/src/lib/api-types.ts'

// Node's `ws` server, loaded with Node's require: this project resolves packages for the browser.
const { WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws')
const servers: Wss[] = []
const connections: LiveConnection[] = []
afterEach(async () => {
  for (const c of connections.splice(0)) c.stop()
  for (const s of servers.splice(0)) {
    for (const client of s.clients) client.terminate()
    await new Promise((r) => s.close(r))
  }
})

async function server(): Promise<{ wss: Wss; url: string; next(): Promise<{ socket: ServerSocket; url: string }> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  servers.push(wss)
  await once(wss, 'listening')
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`
  return { wss, url, next: async () => { const [socket, req] = await once(wss, 'connection'); return { socket, url: req.url } } }
}

const until = async (check: () => boolean) => { while (!check()) await new Promise((r) => setTimeout(r, 5)) }

test('backoff doubles up to a ceiling, with half of each delay random', () => {
  expect(backoffDelay(0, 500, 15_000, () => 0)).toBe(250)
  expect(backoffDelay(0, 500, 15_000, () => 1)).toBe(500)
  expect(backoffDelay(3, 500, 15_000, () => 1)).toBe(4000)
  expect(backoffDelay(10, 500, 15_000, () => 1)).toBe(15_000)
  expect(backoffDelay(10, 500, 15_000, () => 0)).toBe(7500)
})

test('only well-formed live events get through', () => {
  expect(parseLiveEvent('{"type":"lift","deviceId":"u","deviceKind":"vehicle","data":{}}')).toMatchObject({ type: 'lift' })
  for (const bad of ['nope', '[]', 'null', '{"type":"other","deviceId":"u","deviceKind":"bin","data":{}}', '{"type":"lift","deviceId":1,"deviceKind":"bin","data":{}}', '{"type":"lift","deviceId":"u","deviceKind":"bin"}']) {
    expect(parseLiveEvent(bad)).toBeNull()
  }
  expect(parseLiveEvent(new ArrayBuffer(2))).toBeNull()
})

test('connects with the key, delivers events to every listener, and reconnects after a drop', async () => {
  const { url, next } = await server()
  const live = new LiveConnection({ url: (key) => `${url}/api/v1/live?api_key=${key}`, initialDelayMs: 20, maxDelayMs: 100 })
  connections.push(live)
  const a: LiveEvent[] = []
  const b: LiveEvent[] = []
  live.subscribe((e) => a.push(e))
  const unsubscribe = live.subscribe((e) => b.push(e))

  const first = next()
  live.start('ks_key')
  expect(live.status).toBe('connecting')
  const conn = await first
  expect(conn.url).toBe('/api/v1/live?api_key=ks_key')
  await until(() => live.status === 'open')
  conn.socket.send('not json')
  conn.socket.send(JSON.stringify({ type: 'reading', deviceId: 's-1', deviceKind: 'bin', data: { seq: 1, ts: '2026-11-20T12:00:00Z', fillPct: 10 } }))
  await until(() => a.length === 1)
  expect(b).toHaveLength(1)
  expect(live.lastEventAt).not.toBeNull()

  // The server drops us: reconnecting, then open again on a new socket.
  const second = next()
  conn.socket.terminate()
  await until(() => live.status === 'reconnecting')
  expect(live.retryInMs).toBeGreaterThan(0)
  const again = await second
  await until(() => live.status === 'open')
  unsubscribe()
  again.socket.send(JSON.stringify({ type: 'status', deviceId: 's-1', deviceKind: 'bin', data: { online: false } }))
  await until(() => a.length === 2)
  expect(b).toHaveLength(1)
})

test('stop() closes the socket and stops reconnecting', async () => {
  const { wss, url, next } = await server()
  const live = new LiveConnection({ url: () => url, initialDelayMs: 10, maxDelayMs: 20 })
  connections.push(live)
  const conn = next()
  live.start('k')
  const { socket } = await conn
  await until(() => live.status === 'open')
  const closed = once(socket, 'close')
  live.stop()
  await closed
  expect(live.status).toBe('stopped')
  await new Promise((r) => setTimeout(r, 60))
  expect(wss.clients.size).toBe(0)
})

test('asks for what it missed: a replay asked before the socket opens is sent once it does, and after a drop it asks again', async () => {
  const { url, next } = await server()
  const live = new LiveConnection({ url: () => url, initialDelayMs: 20, maxDelayMs: 100 })
  connections.push(live)
  const first = next()
  live.start('k')
  live.replay(5_000)
  live.replay(3_000) // the earlier instant wins
  const conn = await first
  const asked: unknown[] = []
  conn.socket.on('message', (m) => asked.push(JSON.parse(m.toString())))
  await until(() => asked.length === 1)
  expect(asked).toEqual([{ type: 'replay', since: 3_000 }])

  live.replay(7_000) // open: sent at once
  await until(() => asked.length === 2)
  expect(asked[1]).toEqual({ type: 'replay', since: 7_000 })

  const second = next()
  const droppedAt = Date.now()
  conn.socket.terminate()
  const again = await second
  const askedAgain: { type: string; since: number }[] = []
  again.socket.on('message', (m) => askedAgain.push(JSON.parse(m.toString())))
  await until(() => askedAgain.length === 1)
  expect(askedAgain[0]!.type).toBe('replay')
  // From a little before the drop (30 s of margin for the clocks), not from the start.
  expect(askedAgain[0]!.since).toBeGreaterThanOrEqual(droppedAt - 31_000)
  expect(askedAgain[0]!.since).toBeLessThanOrEqual(Date.now() - 29_000)
})
