// Transports for the broker: MQTT over TCP, over TLS when certificate paths are set, and over
// WebSocket (path /mqtt) for browsers and devices behind HTTP-only networks.
import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import net from 'node:net'
import tls from 'node:tls'
import { WebSocketServer, createWebSocketStream } from 'ws'
import type { Broker } from './create-broker.ts'
import { limitedConnection } from './frame-limit.ts'

export interface ListenOptions {
  host: string
  /** Largest MQTT packet accepted; a bigger one closes the connection (default 256 KiB). */
  maxPacketBytes?: number
  tcpPort?: number
  wsPort?: number
  tls?: { port: number; certPath: string; keyPath: string }
}

export interface Listening {
  tcpPort?: number
  wsPort?: number
  tlsPort?: number
  close(): Promise<void>
}

const listen = (server: net.Server | HttpServer, port: number, host: string) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as net.AddressInfo).port)
    })
  })

const closeServer = (server: net.Server | HttpServer) => new Promise<void>((resolve) => server.close(() => resolve()))

export async function listenBroker(broker: Broker, opts: ListenOptions): Promise<Listening> {
  const servers: (net.Server | HttpServer)[] = []
  const max = opts.maxPacketBytes ?? 256 * 1024
  const feed = (stream: Duplex, transport: 'tcp' | 'tls' | 'ws', req?: IncomingMessage) => {
    const conn = limitedConnection(stream, max, () => broker.metrics.rejections.inc({ reason: 'packet_too_large' }))
    Object.assign(conn, { kerbsideTransport: transport })
    broker.handle(conn, req)
  }
  const out: Listening = { close: async () => { await Promise.all(servers.map(closeServer)) } }
  try {
    if (opts.tcpPort !== undefined) {
      const server = net.createServer((socket) => feed(socket, 'tcp'))
      servers.push(server)
      out.tcpPort = await listen(server, opts.tcpPort, opts.host)
    }
    if (opts.tls) {
      const server = tls.createServer({ cert: readFileSync(opts.tls.certPath), key: readFileSync(opts.tls.keyPath), minVersion: 'TLSv1.2' }, (socket) => feed(socket, 'tls'))
      servers.push(server)
      out.tlsPort = await listen(server, opts.tls.port, opts.host)
    }
    if (opts.wsPort !== undefined) {
      const http = createHttpServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect to /mqtt with the mqtt subprotocol\n'))
      const wss = new WebSocketServer({ server: http, path: '/mqtt', maxPayload: 1024 * 1024 })
      wss.on('connection', (ws, req) => {
        const stream = createWebSocketStream(ws)
        Object.assign(stream, { remoteAddress: req.socket.remoteAddress })
        feed(stream, 'ws', req)
      })
      servers.push(http)
      out.wsPort = await listen(http, opts.wsPort, opts.host)
    }
    return out
  } catch (err) {
    await out.close()
    throw err
  }
}
