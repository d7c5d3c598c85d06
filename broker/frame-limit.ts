// A cap on the size of one MQTT packet, before aedes buffers it. aedes and mqtt-packet accept any
// Remaining Length the protocol allows (up to 256 MB), and buffer a packet whole before parsing
// it, so one client could make the broker hold 256 MB per connection. This guard reads only each
// packet's fixed header — one byte, then the Remaining Length as a variable byte integer of up to
// four bytes [MQTT-2.2.3] — and cuts the connection when a packet would exceed the cap. It never
// parses or alters packets: bytes pass through unchanged.
import { Duplex, Transform, type TransformCallback } from 'node:stream'

export class FrameTooLargeError extends Error {
  override name = 'KERBSIDE_ERR_FRAME_TOO_LARGE'
}

export class FrameLimit extends Transform {
  private state: 'type' | 'length' | 'body' = 'type'
  private length = 0
  private multiplier = 1
  private remaining = 0

  constructor(private readonly maxBytes: number) {
    super()
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let i = 0
    while (i < chunk.length) {
      if (this.state === 'type') {
        this.state = 'length'
        this.length = 0
        this.multiplier = 1
        i++
      } else if (this.state === 'length') {
        const byte = chunk[i++]!
        this.length += (byte & 0x7f) * this.multiplier
        if (byte & 0x80) {
          this.multiplier *= 128
          if (this.multiplier > 128 ** 3) return done(new FrameTooLargeError('malformed Remaining Length (more than four bytes)'))
        } else {
          if (this.length > this.maxBytes) return done(new FrameTooLargeError(`packet of ${this.length} bytes exceeds the ${this.maxBytes}-byte limit`))
          this.remaining = this.length
          this.state = this.remaining === 0 ? 'type' : 'body'
        }
      } else {
        const take = Math.min(this.remaining, chunk.length - i)
        this.remaining -= take
        i += take
        if (this.remaining === 0) this.state = 'type'
      }
    }
    done(null, chunk)
  }
}

/** The connection as aedes sees it: reads through the limit, writes straight to the socket. */
export function limitedConnection<T extends Duplex>(socket: T, maxBytes: number, onTooLarge: (err: FrameTooLargeError) => void): Duplex {
  const limit = new FrameLimit(maxBytes)
  limit.on('error', (err) => {
    if (err instanceof FrameTooLargeError) onTooLarge(err)
    socket.destroy()
  })
  socket.on('error', () => limit.destroy())
  const duplex = Duplex.from({ readable: socket.pipe(limit), writable: socket })
  // aedes and Kerbside's login throttling read the peer address from the connection.
  const s = socket as unknown as { remoteAddress?: string; remotePort?: number; encrypted?: boolean }
  Object.assign(duplex, { remoteAddress: s.remoteAddress, remotePort: s.remotePort, encrypted: s.encrypted })
  duplex.on('close', () => socket.destroy())
  return duplex
}
