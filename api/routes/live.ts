// Live telemetry over WebSocket: every valid reading, lift, position and status as it arrives.
// Browsers cannot set headers on a WebSocket, so the key may also come as ?api_key=… (redacted in logs).
// A listener may ask for the events it missed — {"type":"replay","since":<epoch ms>} — and gets those of
// the last few minutes after that instant, then {"type":"replayed","since":…,"events":n}; the events
// carry no marker, and applying one twice changes nothing on the dashboard. Anything else it sends is ignored.
import type { FastifyPluginAsync } from 'fastify'
import type { Database } from '../../storage/database.ts'
import { accessOf, carriesPersonalData } from '../access-model.ts'
import type { LiveFeed } from '../live-feed.ts'
import { auditRead, hiddenFields } from '../plugins/audit.ts'

const REPLAYS_PER_MINUTE = 10
/** How often an open connection's credential is checked again (the bound for revocations made by another process). */
export const LIVE_RECHECK_MS = 10_000
/** WebSocket close code when the credential that opened the connection is no longer valid (1008: policy violation). */
export const CREDENTIAL_ENDED = 1008

export const liveRoutes: FastifyPluginAsync<{ feed: LiveFeed; db: Database }> = async (app, { feed, db }) => {
  app.get('/live', { websocket: true, onRequest: app.requireRole('contract_manager', 'crm', 'viewer'), schema: { tags: ['telemetry'], summary: 'WebSocket: live telemetry events as JSON {type, deviceId, deviceKind, data}; a lift\'s RFID tag for roles contract_manager, crm and admin only', description: 'Send {"type":"replay","since":<epoch ms>} to get the events of the last five minutes after that instant again, followed by {"type":"replayed","since","events"}; at most ten replays a minute per connection.' } }, async (socket, req) => {
    // The access model (api/access-model.ts): a lift's RFID tag only for roles that may see it. The
    // events are shared by every listener, so the fields are left out as each is written, not deleted.
    const hidden = hiddenFields(req)
    const replacer = hidden.size > 0 ? (k: string, v: unknown) => (hidden.has(k) ? undefined : v) : undefined
    // A listener that cannot keep up loses live events rather than growing our memory.
    const send = (message: unknown) => {
      if (socket.bufferedAmount > 4 * 1024 * 1024) return
      socket.send(JSON.stringify(message, replacer))
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
    // The connection outlives the request that opened it: a key revoked, a session signed out or a
    // user disabled since then closes it — at once when this process revoked the key, otherwise at
    // the next check (every LIVE_RECHECK_MS; SECURITY.md).
    let closed = false
    const recheck = async () => {
      if (closed || await app.callerStillValid(req)) return
      req.log.info({ keyId: req.caller?.keyId }, 'live feed connection closed: its credential was revoked or ended')
      socket.close(CREDENTIAL_ENDED, 'credential revoked or ended')
    }
    const timer = setInterval(() => void recheck(), LIVE_RECHECK_MS)
    timer.unref()
    const stopListening = app.onKeyForgotten((keyId) => { if (keyId === req.caller?.keyId) void recheck() })
    const end = () => { closed = true; unsubscribe(); clearInterval(timer); stopListening() }
    socket.on('close', end)
    socket.on('error', end)
    // A connection that will carry personal data is audited once, as it opens (status 101).
    const access = accessOf('GET', req.routeOptions.url)
    if (access && req.caller && carriesPersonalData(access, req.caller.role)) {
      await auditRead(db, req, 101, null).catch((err: unknown) => {
        req.log.error({ err }, 'audit entry for a live-feed connection could not be written; closing it')
        socket.close(1011, 'audit unavailable')
      })
    }
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
