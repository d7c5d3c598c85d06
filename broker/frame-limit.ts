// A cap on the size of one MQTT packet, before aedes buffers it. aedes and mqtt-packet accept any
// Remaining Length the protocol allows (up to 256 MB), and buffer a packet whole before parsing
// it, so one client could make the broker hold 256 MB per connection. The guard reads only each
// packet's fixed header — one byte, then the Remaining Length as a variable byte integer of up to
// four bytes [MQTT-2.2.3] — and cuts the connection when a packet would exceed the cap. It never
// parses or alters packets: bytes pass through unchanged.
import { Duplex } from 'node:stream'

export class FrameTooLargeError extends Error {
  override name = 'KERBSIDE_ERR_FRAME_TOO_LARGE'
}

/** Follows packet boundaries across chunks, however the bytes are split. */
export class FrameSizeCheck {
  private state: 'type' | 'length' | 'body' = 'type'
  private length = 0
  private multiplier = 1
  private remaining = 0

  constructor(private readonly maxBytes: number) {}

  /** The error for the first packet in this chunk that breaks the limit, or null. */
  check(chunk: Uint8Array): FrameTooLargeError | null {
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
          if (this.multiplier > 128 ** 3) return new FrameTooLargeError('malformed Remaining Length (more than four bytes)')
        } else {
          if (this.length > this.maxBytes) return new FrameTooLargeError(`packet of ${this.length} bytes exceeds the ${this.maxBytes}-byte limit`)
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
    return null
  }
}

/**
 * The connection as aedes sees it: reads pass the size check, writes go straight to the socket.
 * One thin layer, not a pipe plus a composed duplex: aedes corks the connection for each packet
 * (mqtt-packet writes a packet in several pieces), and `_writev` hands all the pieces to the socket
 * corked, so a packet — or every packet written in the same tick — leaves in one system call.
 */
class LimitedConnection extends Duplex {
  private readonly size: FrameSizeCheck

  constructor(private readonly socket: Duplex, maxBytes: number, onTooLarge: (err: FrameTooLargeError) => void) {
    super({ allowHalfOpen: false })
    this.size = new FrameSizeCheck(maxBytes)
    socket.on('data', (chunk: Buffer) => {
      const err = this.size.check(chunk)
      if (err) {
        onTooLarge(err)
        this.destroy(err)
        return
      }
      if (!this.push(chunk)) socket.pause()
    })
    socket.on('end', () => this.push(null))
    socket.on('error', (err) => this.destroy(err))
    socket.on('close', () => this.destroy())
    // aedes and Kerbside's login throttling read the peer address from the connection.
    const s = socket as unknown as { remoteAddress?: string; remotePort?: number; encrypted?: boolean }
    Object.assign(this, { remoteAddress: s.remoteAddress, remotePort: s.remotePort, encrypted: s.encrypted })
  }

  override _read(): void {
    this.socket.resume()
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.socket.write(chunk, done)
  }

  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    this.socket.cork()
    for (let i = 0; i < chunks.length - 1; i++) this.socket.write(chunks[i]!.chunk)
    this.socket.write(chunks[chunks.length - 1]!.chunk, done)
    this.socket.uncork()
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.end(done)
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.socket.destroy()
    done(err)
  }
}

export function limitedConnection(socket: Duplex, maxBytes: number, onTooLarge: (err: FrameTooLargeError) => void): Duplex {
  return new LimitedConnection(socket, maxBytes, onTooLarge)
}
