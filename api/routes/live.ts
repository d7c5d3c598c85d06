// Live telemetry over WebSocket: every valid reading, lift, position and status as it arrives.
// Browsers cannot set headers on a WebSocket, so the key may also come as ?api_key=… (redacted in logs).
// A listener may ask for the events it missed — {"type":"replay","since":<epoch ms>} — and gets those of
// the last few minutes after that instant, then {"type":"replayed","since":…,"events":n}; the events
// carry no marker, and applying one twice changes nothing on the dashboard. Anything else it sends is ignored.
import type { FastifyPluginAsync } from 'fastify'
import type { LiveFeed } from '../live-feed.ts'

const REPLAYS_PER_MINUTE = 10

export const liveRoutes: FastifyPluginAsync<{ feed: LiveFeed }> = async (app, { feed }) => {
  app.get('/live', { websocket: true, onRequest: app.requireRole('contract_manager', 'crm', 'viewer'), schema: { tags: ['telemetry'], summary: 'WebSocket: live telemetry events as JSON {type, deviceId, deviceKind, data}', description: 'Send {"type":"replay","since":<epoch ms>} to get the events of the last five minutes after that instant again, followed by {"type":"replayed","since","events"}; at most ten replays a minute per connection.' } }, (socket) => {
    // A listener that cannot keep up loses live events rather than growing our memory.
    const send = (message: unknown) => {
      if (socket.bufferedAmount > 4 * 1024 * 1024) return
      socket.send(JSON.stringify(message))
    }
    const unsubscribe = feed.subscribe(send)
    // A replay can be thousands of events: a few a minute per connection is all a dashboard needs.
    let replays: number[] = []
    socket.on('message', (raw: Buffer, isBinary: boolean) => {
      const since = isBinary || raw.length > 200 ? null : replaySince(raw.toString('utf8'))
      if (since === null) return
      const now = Date.now()
      replays = replays.filter((t) => t > now - 60_000)
      if (replays.length >= REPLAYS_PER_MINUTE) return send({ type: 'replayed', since, events: 0, refused: `at most ${REPLAYS_PER_MINUTE} replays a minute` })
      replays.push(now)
      const missed = feed.since(since)
      for (const event of missed) send(event)
      send({ type: 'replayed', since, events: missed.length })
    })
    socket.on('close', unsubscribe)
    socket.on('error', unsubscribe)
  })
}

function replaySince(text: string): number | null {
  try {
    const m = JSON.parse(text) as { type?: unknown; since?: unknown }
    return m.type === 'replay' && typeof m.since === 'number' && Number.isFinite(m.since) ? m.since : null
  } catch {
    return null
  }
}
