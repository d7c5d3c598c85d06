// LoRaWAN network servers' front doors, and sensors registered by DevEUI (docs/lorawan.md).
//   POST /lorawan/ttn          The Things Stack v3 webhook (uplink, join-accept and other messages)
//   POST /lorawan/chirpstack   ChirpStack v4 HTTP integration (?event=up|join|status|…, JSON marshaler)
// Each network server is configured to send its own secret in a header; it is checked in
// onRequest, before fastify reads the body, so an unauthenticated upload is refused unread, and a
// body over LORAWAN_MAX_BODY_BYTES is refused from its Content-Length. The answer comes after the
// pipeline has committed the reading (ingest/lorawan/uplink-handler.ts): a 2xx means stored (or
// quarantined with its reason), a 503 means "send it again later".
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { safeEqual } from '../../core/secrets.ts'
import { SENSOR_MODELS, CODECS, codecFor } from '../../ingest/codecs/index.ts'
import { pctFromVolts } from '../../ingest/codecs/fill-level.ts'
import { parseChirpStackEvent } from '../../ingest/lorawan/chirpstack-envelope.ts'
import type { NetworkServer } from '../../ingest/lorawan/events.ts'
import { parseTtsMessage } from '../../ingest/lorawan/tts-envelope.ts'
import type { LoRaWANIngest } from '../../ingest/lorawan/uplink-handler.ts'
import type { Database } from '../../storage/database.ts'
import { DeviceConflictError, NotFoundError } from '../../storage/devices.ts'
import { getLoRaWANDevice, listSessions, normaliseDevEui, registerLoRaWANDevice } from '../../storage/lorawan-devices.ts'
import { recentFrameNotes } from '../../storage/lorawan-frames.ts'
import { httpError } from '../errors.ts'
import { DateTime, DeviceId, Errors } from '../schemas/common.ts'

export interface LoRaWANRouteOptions {
  db: Database
  /** Null in a process without an ingest pipeline: the webhooks answer 503. */
  ingest: LoRaWANIngest | null
  secrets: Partial<Record<NetworkServer, string>>
  maxBodyBytes: number
}

export const SECRET_HEADER = 'x-kerbside-secret'
const SECRET_SETTING: Record<NetworkServer, string> = { ttn: 'LORAWAN_TTN_SECRET', chirpstack: 'LORAWAN_CHIRPSTACK_SECRET' }

const Outcome = Type.Object({
  outcome: Type.Union(['stored', 'quarantined', 'recorded', 'ignored', 'no_reading', 'retry'].map((o) => Type.Literal(o))),
  reason: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String()),
  deviceId: Type.Optional(Type.String()),
  seq: Type.Optional(Type.Integer()),
  fillPct: Type.Optional(Type.Number()),
  flags: Type.Optional(Type.Array(Type.String())),
}, { $id: 'LoRaWANOutcome' })

const Calibration = Type.Object({
  innerDepthMm: Type.Optional(Type.Integer({ minimum: 100, maximum: 3000, description: 'Rim to floor of the bin, mm' })),
  mountOffsetMm: Type.Optional(Type.Integer({ minimum: 0, maximum: 500, description: 'Sensor face above the rim, mm' })),
  blindZoneMm: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: "Shortest distance the sensor can measure, mm (vendor's datasheet)" })),
}, { additionalProperties: false })

const DevEuiParam = Type.Object({ devEui: Type.String({ pattern: '^[0-9A-Fa-f]{16}$', description: 'DevEUI, 16 hex digits' }) })

const LoRaWANDeviceBody = Type.Object({
  devEui: Type.String(), deviceId: Type.String(), model: Type.String(), calibration: Calibration, binId: Type.Union([Type.String(), Type.Null()]),
  capacityL: Type.Union([Type.Integer(), Type.Null()]), joins: Type.Integer(), lastJoinAt: Type.Union([DateTime, Type.Null()]),
  lastUplinkAt: Type.Union([DateTime, Type.Null()]), lastFCnt: Type.Union([Type.Integer(), Type.Null()]), batteryPct: Type.Union([Type.Number(), Type.Null()]),
  batteryV: Type.Union([Type.Number(), Type.Null()]), batteryAt: Type.Union([DateTime, Type.Null()]), revoked: Type.Boolean(),
  sessions: Type.Array(Type.Object({
    sessionNo: Type.Integer(), startedAt: DateTime, seqBase: Type.Integer(), maxFCnt: Type.Integer(),
    reason: Type.String({ description: 'first, join (a join event), f_cnt_reset (the frame counter started again: a re-join or reset)' }),
  })),
  frames: Type.Array(Type.Object({
    seq: Type.Integer(), ts: DateTime,
    stored: Type.Boolean({ description: 'true: a reading was stored with flags (its value clamped); false: the frame gave no reading, was quarantined with its reason, and its seq counted as heard (no gap)' }),
    reason: Type.Union([Type.String(), Type.Null()], { description: 'no_measurement or undecodable_payload, for a frame without a reading' }),
    flags: Type.Array(Type.String(), { description: 'blind_zone, overfull, beyond_depth; vendor notes such as no_echo, invalid_reading, no_sensor, device_attributes' }),
  }), { description: 'The latest frames worth a note, newest first (at most 20)' }),
}, { $id: 'LoRaWANDevice' })

export const lorawanRoutes: FastifyPluginAsyncTypebox<LoRaWANRouteOptions> = async (app, opts) => {
  app.addSchema(Outcome)
  app.addSchema(LoRaWANDeviceBody)

  const checkSecret = (source: NetworkServer) => async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const expected = opts.secrets[source]
    const auth = req.headers.authorization
    const given = req.headers[SECRET_HEADER] ?? (auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined)
    if (expected && typeof given === 'string' && safeEqual(given, expected)) return
    // Close the connection rather than read and discard whatever body follows.
    void reply.header('connection', 'close')
    if (!expected) throw httpError(401, 'KERBSIDE_ERR_LORAWAN_NOT_CONFIGURED', `No secret is configured for ${source}: set ${SECRET_SETTING[source]} and send it in the ${SECRET_HEADER} header.`)
    throw httpError(401, 'KERBSIDE_ERR_UNAUTHENTICATED', `Send this network server's secret in the ${SECRET_HEADER} header (or Authorization: Bearer).`)
  }
  // A body refused for its size is not read either.
  const closeOnRefusal = async (_req: FastifyRequest, reply: FastifyReply) => {
    if (reply.statusCode === 413) void reply.header('connection', 'close')
  }

  async function answer(source: NetworkServer, parsed: ReturnType<typeof parseTtsMessage>, body: unknown, reply: FastifyReply) {
    if (!opts.ingest) throw httpError(503, 'KERBSIDE_ERR_NO_PIPELINE', 'This process has no ingest pipeline; send uplinks to one that does.')
    const outcome = await opts.ingest.handle(source, parsed, Buffer.from(JSON.stringify(body)))
    if (outcome.statusCode === 503) void reply.header('retry-after', '5')
    return reply.code(outcome.statusCode).send(outcome.body)
  }

  const webhook = (source: NetworkServer, summary: string) => ({
    onRequest: checkSecret(source),
    onSend: closeOnRefusal,
    bodyLimit: opts.maxBodyBytes,
    // Network servers send as fast as their devices talk; their own secret, not the API rate limit, guards this door.
    config: { rateLimit: false as const },
    schema: {
      tags: ['lorawan'], summary,
      response: { 200: Type.Ref('LoRaWANOutcome'), 202: Type.Ref('LoRaWANOutcome'), 400: Type.Union([Type.Ref('LoRaWANOutcome'), Type.Ref('Error')]), 503: Type.Union([Type.Ref('LoRaWANOutcome'), Type.Ref('Error')]), 401: Type.Ref('Error'), 413: Type.Ref('Error') },
    },
  })

  app.post('/lorawan/ttn', webhook('ttn', 'The Things Stack v3 webhook: uplink, join-accept and other application messages (JSON)'),
    async (req, reply) => answer('ttn', parseTtsMessage(req.body), req.body, reply))

  app.post('/lorawan/chirpstack', {
    ...webhook('chirpstack', 'ChirpStack v4 HTTP integration: ?event=up, join, status, … (JSON marshaler)'),
    schema: { ...webhook('chirpstack', '').schema, summary: 'ChirpStack v4 HTTP integration: ?event=up, join, status, … (JSON marshaler)', querystring: Type.Object({ event: Type.String({ maxLength: 20, default: 'up' }) }) },
  }, async (req, reply) => answer('chirpstack', parseChirpStackEvent((req.query as { event: string }).event, req.body), req.body, reply))

  app.get('/lorawan/models', {
    onRequest: app.requireRole('provisioning', 'contract_manager', 'viewer', 'crm'),
    schema: {
      tags: ['lorawan'], summary: 'Sensor models Kerbside decodes', security: [{ apiKey: [] }],
      response: { 200: Type.Array(Type.Object({ model: Type.String(), vendor: Type.String(), source: Type.String() })), ...Errors },
    },
  }, async () => CODECS.map((c) => ({ model: c.model, vendor: c.vendor, source: c.source })))

  app.put('/lorawan/devices/:devEui', {
    onRequest: app.requireRole('provisioning'),
    schema: {
      tags: ['lorawan'], summary: 'Register a LoRaWAN bin sensor by DevEUI, with its model and bin (again: change model or calibration)', security: [{ apiKey: [] }],
      params: DevEuiParam,
      body: Type.Object({
        model: Type.Union(SENSOR_MODELS.map((m) => Type.Literal(m))),
        binId: Type.String({ minLength: 1, maxLength: 64 }),
        deviceId: Type.Optional(DeviceId),
        calibration: Type.Optional(Calibration),
      }, { additionalProperties: false }),
      response: { 200: Type.Ref('LoRaWANDevice'), 201: Type.Ref('LoRaWANDevice'), 409: Type.Ref('Error'), ...Errors },
    },
  }, async (req, reply) => {
    try {
      const { device, created } = await registerLoRaWANDevice(opts.db, { devEui: req.params.devEui, ...req.body })
      req.log.info({ devEui: device.devEui, deviceId: device.deviceId, model: device.model, by: req.caller?.keyId }, created ? 'LoRaWAN device registered' : 'LoRaWAN device updated')
      return reply.code(created ? 201 : 200).send({ ...device, sessions: [], frames: [] })
    } catch (err) {
      if (err instanceof DeviceConflictError) throw httpError(409, 'KERBSIDE_ERR_DEVICE_CONFLICT', err.message)
      if (err instanceof NotFoundError) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', err.message)
      throw err
    }
  })

  app.get('/lorawan/devices/:devEui', {
    onRequest: app.requireRole('provisioning', 'contract_manager'),
    schema: {
      tags: ['lorawan'], summary: 'A LoRaWAN sensor: model, calibration, battery, joins and frame-counter sessions (a re-join shows as a new session)', security: [{ apiKey: [] }],
      params: DevEuiParam, response: { 200: Type.Ref('LoRaWANDevice'), ...Errors },
    },
  }, async (req) => {
    const devEui = normaliseDevEui(req.params.devEui)!
    const device = await getLoRaWANDevice(opts.db, devEui)
    if (!device) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No LoRaWAN device ${devEui}.`)
    const sessions = (await listSessions(opts.db, devEui)).map((s) => ({ sessionNo: s.sessionNo, startedAt: new Date(s.startedAt), seqBase: s.seqBase, maxFCnt: s.maxFCnt, reason: s.reason }))
    // Volts from the latest reading give % through the model's battery range when no status said it.
    const codec = codecFor(device.model)
    const batteryPct = device.batteryPct ?? (device.batteryV !== null && codec ? pctFromVolts(device.batteryV, codec.battery) : null)
    const frames = await recentFrameNotes(opts.db, device.deviceId)
    return { ...device, batteryPct, sessions, frames }
  })
}
