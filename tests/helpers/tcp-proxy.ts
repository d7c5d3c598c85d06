// A TCP proxy the fault tests control, standing between a service and a real server (PostgreSQL,
// a broker): cut every connection, refuse new ones for a while (the server "restarting"), or
// delay every chunk (a slow server).
import net from 'node:net'

export interface TcpProxy {
  port: number
  /** Destroy every open connection, both ways, mid-stream. */
  cut(): number
  /** Refuse (reset) new connections until `resume()`: the server is down. */
  down(): void
  resume(): void
  /** Hold every chunk for `ms` before passing it on (0 = none). */
  delay(ms: number): void
  connections(): number
  close(): Promise<void>
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>()
  let refusing = false
  let delayMs = 0

  const forward = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk) => {
      if (delayMs === 0) { if (!to.write(chunk)) from.pause(); return }
      from.pause() // keep order: one delayed chunk at a time
      setTimeout(() => { if (!to.destroyed) to.write(chunk); from.resume() }, delayMs)
    })
    to.on('drain', () => from.resume())
  }

  const server = net.createServer((client) => {
    if (refusing) { client.resetAndDestroy(); return }
    const upstream = net.connect(target.port, target.host)
    open.add(client)
    open.add(upstream)
    const close = () => { client.destroy(); upstream.destroy(); open.delete(client); open.delete(upstream) }
    client.on('error', close)
    upstream.on('error', close)
    client.on('close', close)
    upstream.on('close', close)
    forward(client, upstream)
    forward(upstream, client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      const n = open.size / 2
      for (const s of open) s.resetAndDestroy()
      open.clear()
      return n
    },
    down() { refusing = true },
    resume() { refusing = false },
    delay(ms) { delayMs = ms },
    connections: () => open.size / 2,
    close: () => new Promise<void>((resolve) => {
      for (const s of open) s.destroy()
      server.close(() => resolve())
    }),
  }
}
