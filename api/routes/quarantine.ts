// Refused input made visible (issue 14): what ingest quarantined — MQTT messages that broke the
// device contract, uplinks a network server sent that could not be stored — listed and filtered by
// device, reason and time, with counts by reason, and each entry's raw payload. Operator data: the
// contract manager (and admin) and provisioning, who fits and fixes the devices; never the viewer
// (the wallboard). The payload may carry personal data (a lift has the bin's RFID tag and the
// position at the property), so it is a household field in the access model: provisioning sees the
// entry and what was wrong with it, not the bytes.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Database } from '../../storage/database.ts'
import { getQuarantined, listQuarantine, quarantineCountsByReason, type QuarantineEntry as StoredEntry } from '../../storage/quarantine.ts'
import { httpError } from '../errors.ts'
import { Errors } from '../schemas/common.ts'
import { QuarantineEntry, QuarantinePage, QuarantineQuery, QuarantinedPayload } from '../schemas/quarantine.ts'

const READERS = ['contract_manager', 'provisioning'] as const
const entryOf = (e: StoredEntry): QuarantineEntry => ({
  id: e.id, topic: e.topic, deviceId: e.deviceId, reason: e.reason, detail: e.detail, payloadBytes: e.payloadBytes, timesSeen: e.timesSeen,
  firstSeen: e.firstSeen.toISOString(), lastSeen: e.lastSeen.toISOString(),
})

/** The payload as text when it is text (valid UTF-8 with no control characters but tab and line breaks), else null. */
export function payloadAsText(bytes: Buffer): string | null {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return null
  }
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? null : text
}

export const quarantineRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.addSchema(QuarantineEntry)
  app.addSchema(QuarantinedPayload)

  app.get('/quarantine', {
    onRequest: app.requireRole(...READERS),
    schema: {
      tags: ['devices'], summary: 'Refused input, newest first: filter by device, reason and time; counts by reason', security: [{ apiKey: [] }],
      querystring: QuarantineQuery, response: { 200: QuarantinePage, ...Errors },
    },
  }, async (req) => {
    const q = req.query
    const from = q.from ? new Date(q.from) : undefined
    const to = q.to ? new Date(q.to) : undefined
    if (from && to && to <= from) throw httpError(400, 'KERBSIDE_ERR_BAD_RANGE', '`to` must be after `from`.')
    const filter = { deviceId: q.deviceId, reason: q.reason, from, to }
    const [page, byReason] = await Promise.all([listQuarantine(db, filter, { limit: q.limit, offset: q.offset }), quarantineCountsByReason(db, filter)])
    return {
      total: page.total, limit: q.limit, offset: q.offset, entries: page.entries.map(entryOf),
      byReason: byReason.map((r) => ({ reason: r.reason, entries: r.entries, messages: r.messages, lastSeen: r.lastSeen.toISOString() })),
    }
  })

  app.get('/quarantine/:id', {
    onRequest: app.requireRole(...READERS),
    schema: {
      tags: ['devices'], summary: 'One refused message with its raw payload (the payload: roles contract_manager and admin)', security: [{ apiKey: [] }],
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), response: { 200: Type.Ref('QuarantinedPayload'), ...Errors },
    },
  }, async (req) => {
    const found = await getQuarantined(db, req.params.id)
    if (!found) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No quarantined message ${req.params.id}: it may have been removed by retention. List them with GET /api/v1/quarantine.`)
    return {
      ...entryOf(found),
      payloadTruncated: found.payloadBytes > found.payload.length,
      payloadText: payloadAsText(found.payload), payloadHex: found.payload.toString('hex'),
    }
  })
}
