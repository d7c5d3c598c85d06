// The audit log of household reads. Every route under /api/v1/households/:uprn (whichever plugin
// declares it) is audited: the entry is written before the response leaves, and if it cannot be
// written the caller gets a 500 instead of the data — no household read goes unrecorded.
import fp from 'fastify-plugin'
import type { Database } from '../../storage/database.ts'
import { recordAudit } from '../../storage/audit.ts'

const AUDITED = /^\/api\/v1\/households\/:uprn(\/|$)/

export const auditPlugin = fp<{ db: Database }>(async (app, { db }) => {
  app.addHook('onSend', async (req, reply, payload) => {
    const route = req.routeOptions.url
    if (!route || !AUDITED.test(route) || reply.statusCode >= 400 || !req.caller) return payload
    const uprn = Number((req.params as { uprn?: string }).uprn)
    await recordAudit(db, {
      actor: req.caller.keyId, actorName: req.caller.name, role: req.caller.role, action: `${req.method} ${route}`,
      uprn: Number.isSafeInteger(uprn) ? uprn : null, status: reply.statusCode, ip: req.ip,
    })
    return payload
  })
}, { name: 'kerbside-audit', dependencies: ['kerbside-auth'] })
