// The one live connection: a WebSocket to /api/v1/live that every live screen listens to. It
// reconnects with exponential backoff and jitter (so a restarted server is not hit by every
// dashboard at once), and drops anything that is not a well-formed live event. It asks the server
// for what it missed — since a map snapshot was made, or since the connection dropped — and the
// server replays its last few minutes; events seen twice change nothing (state only moves forward
// in device time, lifts are known by key).
import type { LiveEvent } from './api-types.ts'

export type LiveStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'stopped'
export type LiveListener = (event: LiveEvent) => void

export interface LiveOptions {
  /** Where to connect; the key travels as ?api_key= because browsers cannot set WebSocket headers. */
  url?: (key: string) => string
  initialDelayMs?: number
  maxDelayMs?: number
  random?: () => number
  WebSocketImpl?: typeof WebSocket
}

const EVENT_TYPES = new Set(['reading', 'lift', 'position', 'status'])
/** After a drop, ask for events from this long before it (the server's clock may differ from ours). */
const RECONNECT_REPLAY_MARGIN_MS = 30_000

/** Delay before reconnect attempt `attempt` (0-based): doubling, capped, with half of it random. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** attempt)
  return Math.round(ceiling / 2 + (ceiling / 2) * random())
}

export function defaultLiveUrl(key: string, loc: Location = location): string {
  const scheme = loc.protocol === 'https:' ? 'wss' : 'ws'
  return `${scheme}://${loc.host}/api/v1/live?api_key=${encodeURIComponent(key)}`
}

export function parseLiveEvent(raw: unknown): LiveEvent | null {
  if (typeof raw !== 'string') return null
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const e = value as Record<string, unknown>
  if (typeof e.type !== 'string' || !EVENT_TYPES.has(e.type)) return null
  if (typeof e.deviceId !== 'string' || (e.deviceKind !== 'bin' && e.deviceKind !== 'vehicle')) return null
  if (typeof e.data !== 'object' || e.data === null) return null
  return value as LiveEvent
}

export class LiveConnection {
  status = $state<LiveStatus>('idle')
  /** When the last event arrived (epoch ms). */
  lastEventAt = $state<number | null>(null)
  /** Milliseconds until the next reconnect attempt, while reconnecting. */
  retryInMs = $state<number | null>(null)

  #listeners = new Set<LiveListener>()
  #socket: WebSocket | null = null
  #timer: ReturnType<typeof setTimeout> | null = null
  #attempt = 0
  #key: string | null = null
  /** The earliest instant (server clock, epoch ms) to ask the server to replay from once open. */
  #replayFrom: number | null = null
  #droppedAt: number | null = null
  #opts: Required<LiveOptions>

  constructor(opts: LiveOptions = {}) {
    this.#opts = {
      url: opts.url ?? ((key) => defaultLiveUrl(key)),
      initialDelayMs: opts.initialDelayMs ?? 500,
      maxDelayMs: opts.maxDelayMs ?? 15_000,
      random: opts.random ?? Math.random,
      WebSocketImpl: opts.WebSocketImpl ?? WebSocket,
    }
  }

  subscribe(listener: LiveListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Ask the server for the events after `sinceMs` (epoch ms, the server's clock): now if open, else once it is. */
  replay(sinceMs: number): void {
    this.#replayFrom = this.#replayFrom === null ? sinceMs : Math.min(this.#replayFrom, sinceMs)
    this.#sendReplay()
  }

  #sendReplay(): void {
    const socket = this.#socket
    if (this.#replayFrom === null || !socket || this.status !== 'open') return
    socket.send(JSON.stringify({ type: 'replay', since: this.#replayFrom }))
    this.#replayFrom = null
  }

  /** Connect with this key (again, if it changed); keeps reconnecting until stop(). */
  start(key: string): void {
    if (this.#key === key && this.status !== 'stopped' && this.status !== 'idle') return
    this.stop()
    this.#key = key
    this.#attempt = 0
    this.#open()
  }

  stop(): void {
    this.#key = null
    this.#replayFrom = null
    this.#droppedAt = null
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    const socket = this.#socket
    this.#socket = null
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null
      socket.close(1000, 'stopped')
    }
    this.retryInMs = null
    if (this.status !== 'idle') this.status = 'stopped'
  }

  #open(): void {
    if (!this.#key) return
    this.status = this.#attempt === 0 ? 'connecting' : 'reconnecting'
    this.retryInMs = null
    const socket = new this.#opts.WebSocketImpl(this.#opts.url(this.#key))
    this.#socket = socket
    socket.onopen = () => {
      this.#attempt = 0
      this.status = 'open'
      if (this.#droppedAt !== null) this.replay(this.#droppedAt - RECONNECT_REPLAY_MARGIN_MS)
      this.#droppedAt = null
      this.#sendReplay()
    }
    socket.onmessage = (msg: MessageEvent) => {
      const event = parseLiveEvent(msg.data)
      if (!event) return
      this.lastEventAt = Date.now()
      for (const listener of this.#listeners) listener(event)
    }
    // A refused key and a dropped network look the same from here (the upgrade fails): keep
    // retrying with backoff; the session notices a refused key on its next API call.
    socket.onclose = () => {
      if (this.#socket !== socket) return
      this.#socket = null
      if (this.status === 'open') this.#droppedAt = Date.now()
      this.#schedule()
    }
    socket.onerror = () => undefined // followed by close, which reconnects
  }

  #schedule(): void {
    if (!this.#key) return
    const delay = backoffDelay(this.#attempt++, this.#opts.initialDelayMs, this.#opts.maxDelayMs, this.#opts.random)
    this.status = 'reconnecting'
    this.retryInMs = delay
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#open()
    }, delay)
  }
}
