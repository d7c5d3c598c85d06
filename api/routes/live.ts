// Live telemetry over WebSocket: every valid reading, lift, position and status as it arrives.
// Browsers cannot set headers on a WebSocket, so the key may also come as ?api_key=… (redacted in logs).
import type { FastifyPluginAsync } from 'fastify'
import type { LiveFeed } from '../live-feed.ts'

export const liveRoutes: FastifyPluginAsync<{ feed: LiveFeed }> = async (app, { feed }) => {
  app.get('/live', { websocket: true, preHandler: app.requireRole('contract_manager', 'crm', 'viewer'), schema: { tags: ['telemetry'], summary: 'WebSocket: live telemetry events as JSON {type, deviceId, deviceKind, data}' } }, (socket) => {
    const unsubscribe = feed.subscribe((event) => {
      // A listener that cannot keep up loses live events rather than growing our memory.
      if (socket.bufferedAmount > 4 * 1024 * 1024) return
      socket.send(JSON.stringify(event))
    })
    socket.on('close', unsubscribe)
    socket.on('error', unsubscribe)
  })
}
