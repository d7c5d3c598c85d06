// Device provisioning and telemetry of one device.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DEVICE_KINDS } from '../../core/contract/topics.ts'
import type { Database } from '../../storage/database.ts'
import { DeviceConflictError, NotFoundError, ReservedDeviceIdError, getDevice, provisionDevice, revokeDevice } from '../../storage/devices.ts'
import { DEVICE_STATES, deviceSummary, listDeviceRows } from '../../storage/device-list.ts'
import { onOneCore, sharedCount } from '../shared-count.ts'
import { readingAggregates, readingsOf } from '../../storage/readings.ts'
import { hiddenFields } from '../plugins/audit.ts'
import { DateTime, DeviceId, Errors, Paging, TimeRange } from '../schemas/common.ts'
import { httpError } from '../errors.ts'

export const Device = Type.Object({
  deviceId: Type.String(),
  kind: Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k))),
  binId: Type.Union([Type.String(), Type.Null()]),
  vehicleId: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime,
  revokedAt: Type.Union([DateTime, Type.Null()]),
  lastSeq: Type.Union([Type.Integer(), Type.Null()]),
  lastTs: Type.Union([DateTime, Type.Null()]),
  online: Type.Union([Type.Boolean(), Type.Null()]),
  onlineSince: Type.Union([DateTime, Type.Null()]),
}, { $id: 'Device' })
export type Device = Static<typeof Device>

/** A row of the devices list: the device, the household its bin belongs to, battery and quarantine. */
export const DeviceListItem = Type.Composite([Device, Type.Object({
  devEui: Type.Union([Type.String({ description: 'LoRaWAN DevEUI, for sensors registered by it' }), Type.Null()]),
  uprn: Type.Optional(Type.Union([Type.Integer({ description: 'Household of the bin (bin sensors); roles crm, contract_manager and admin only' }), Type.Null()])),
  address: Type.Optional(Type.Union([Type.String({ description: 'Roles crm, contract_manager and admin only' }), Type.Null()])),
  postcode: Type.Union([Type.String(), Type.Null()]),
  batteryV: Type.Union([Type.Number({ description: 'Battery of the last reading, volts' }), Type.Null()]),
  quarantinedAt: Type.Union([DateTime, Type.Null()], { description: 'When a message of the device was last refused, within the last 24 hours' }),
})], { $id: 'DeviceListItem' })
export type DeviceListItem = Static<typeof DeviceListItem>

const StateCounts = Type.Object({
  total: Type.Integer({ description: 'Devices not revoked' }), online: Type.Integer(),
  silent: Type.Integer({ description: 'Nothing heard for 3 hours, or never heard and not connected' }),
  lowBattery: Type.Integer({ description: 'Last reading below 3.3 V' }),
  quarantined: Type.Integer({ description: 'A message refused in the last 24 hours' }), revoked: Type.Integer(),
})
export const DeviceSummaryAnswer = Type.Object({
  asOf: DateTime, bin: StateCounts, vehicle: StateCounts,
}, { $id: 'DeviceSummary', description: 'Counts by kind and state as of `asOf`; counted again when older than 30 s' })
export type DeviceSummary = Static<typeof DeviceSummaryAnswer>

export const DeviceListQuery = Type.Composite([Paging, Type.Object({
  kind: Type.Optional(Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k)))),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Device id (or its start), DevEUI, UPRN, postcode (or its start), or the start of an address or street. Roles that may not see households match device ids and DevEUIs only.' })),
  state: Type.Optional(Type.Union(DEVICE_STATES.map((s) => Type.Literal(s)))),
  after: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Only devices whose id sorts after this one: the next page without a deep offset' })),
})])

/** The summary is counted at most this often; between counts the last one is answered (asOf says when). */
const SUMMARY_FRESH_MS = 30_000

export const ProvisionRequest = Type.Object({
  deviceId: DeviceId,
  kind: Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k))),
  binId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Bin the sensor is fitted to (bin devices)' })),
  vehicleId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Vehicle the unit is fitted to (vehicle devices)' })),
}, { additionalProperties: false })

export const ReadingRow = Type.Object({
  ts: DateTime, seq: Type.Integer(), fillPct: Type.Number(), tempC: Type.Union([Type.Number(), Type.Null()]),
  batteryV: Type.Union([Type.Number(), Type.Null()]), status: Type.Union([Type.String(), Type.Null()]),
  binId: Type.Union([Type.String(), Type.Null()]), uprn: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: 'Roles crm, contract_manager and admin only' })),
}, { $id: 'Reading' })
export type ReadingRow = Static<typeof ReadingRow>

export const ReadingBucketRow = Type.Object({
  bucket: DateTime, n: Type.Integer(), fillAvg: Type.Number(), fillMin: Type.Number(), fillMax: Type.Number(),
  tempMax: Type.Union([Type.Number(), Type.Null()]), batteryMin: Type.Union([Type.Number(), Type.Null()]),
}, { $id: 'ReadingBucket' })
export type ReadingBucketRow = Static<typeof ReadingBucketRow>

/** Bucket widths for aggregates; buckets start at multiples of their width since the Unix epoch (UTC). */
const BUCKET_SECONDS = { '15m': 900, '1h': 3600, '6h': 21_600, '1d': 86_400, '7d': 604_800 } as const
type BucketName = keyof typeof BUCKET_SECONDS
const BUCKET_NAMES = Object.keys(BUCKET_SECONDS) as BucketName[]

const MAX_RANGE_DAYS = 400
const checkRange = (from: string, to: string) => {
  const f = Date.parse(from)
  const t = Date.parse(to)
  if (!(t > f)) throw httpError(400, 'KERBSIDE_ERR_BAD_RANGE', '`to` must be after `from`.')
  if (t - f > MAX_RANGE_DAYS * 86_400_000) throw httpError(400, 'KERBSIDE_ERR_BAD_RANGE', `The range may span at most ${MAX_RANGE_DAYS} days.`)
  return { from: new Date(f), to: new Date(t) }
}

export const deviceRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.addSchema(Device)
  app.addSchema(ReadingRow)
  app.addSchema(ReadingBucketRow)
  app.addSchema(DeviceListItem)
  app.addSchema(DeviceSummaryAnswer)

  app.post('/devices', {
    onRequest: app.requireRole('provisioning'),
    schema: {
      tags: ['devices'],
      summary: 'Register a device and get its MQTT secret',
      description: 'The secret is returned this once; only a slow hash of it is stored. The device logs in with username = client id = deviceId.',
      security: [{ apiKey: [] }],
      body: ProvisionRequest,
      response: { 201: Type.Object({ device: Type.Ref('Device'), secret: Type.String(), mqtt: Type.Object({ username: Type.String(), clientId: Type.String(), topics: Type.Array(Type.String()) }) }), 409: Type.Ref('Error'), ...Errors },
    },
  }, async (req, reply) => {
    const { deviceId, kind, binId, vehicleId } = req.body
    if (kind === 'bin' && vehicleId) throw httpError(400, 'KERBSIDE_ERR_BAD_DEVICE', 'A bin device is fitted to a bin: give binId, not vehicleId.')
    if (kind === 'vehicle' && binId) throw httpError(400, 'KERBSIDE_ERR_BAD_DEVICE', 'A vehicle device is fitted to a vehicle: give vehicleId, not binId.')
    try {
      const { device, secret } = await provisionDevice(db, { deviceId, kind, binId, vehicleId })
      const segment = kind === 'bin' ? 'bins' : 'vehicles'
      const topics = (kind === 'bin' ? ['reading', 'status'] : ['lift', 'position', 'status']).map((m) => `kerbside/v1/${segment}/${deviceId}/${m}`)
      req.log.info({ deviceId, kind, by: req.caller?.keyId }, 'device provisioned')
      return reply.code(201).send({ device, secret, mqtt: { username: deviceId, clientId: deviceId, topics } })
    } catch (err) {
      if (err instanceof ReservedDeviceIdError) throw httpError(400, err.name, err.message)
      if (err instanceof DeviceConflictError) throw httpError(409, err.name, err.message)
      if (err instanceof NotFoundError) throw httpError(404, err.name, err.message)
      throw err
    }
  })

  app.get('/devices', {
    onRequest: app.requireRole('provisioning', 'contract_manager', 'viewer'),
    schema: {
      tags: ['devices'], operationId: 'getApiV1Devices', security: [{ apiKey: [] }],
      summary: 'List and search devices, a page at a time, by device id, with the household of each sensor',
      description: 'Search by device id, DevEUI, UPRN, postcode or the start of an address or street; filter by kind and state (online, silent, low_battery, quarantined, revoked). Page with `offset`, or with `after` (the last device id of the previous page).',
      querystring: DeviceListQuery,
      response: { 200: Type.Array(Type.Ref('DeviceListItem')), ...Errors },
    },
  }, async (req) => {
    // A role that may not see households may not find devices by them either.
    const householdSearch = !hiddenFields(req).has('address')
    const { items } = await listDeviceRows(db, { ...req.query, householdSearch, now: new Date() })
    return items
  })

  // One count for every caller, refreshed in the background when older than SUMMARY_FRESH_MS: a
  // wall of screens polling it costs one count per half minute, not one per screen.
  const summary = sharedCount(onOneCore(db, (tx) => deviceSummary(tx, new Date())), { freshMs: SUMMARY_FRESH_MS, onError: (err) => app.log.warn({ err }, 'device summary not counted') })
  app.get('/device-summary', {
    onRequest: app.requireRole('provisioning', 'contract_manager', 'viewer'),
    schema: {
      tags: ['devices'], operationId: 'getApiV1DeviceSummary', security: [{ apiKey: [] }],
      summary: 'Devices counted by kind and state: online, silent, low battery, quarantined recently, revoked',
      response: { 200: Type.Ref('DeviceSummary'), ...Errors },
    },
  }, async () => (await summary.get()).value)

  app.get('/devices/:deviceId', {
    onRequest: app.requireRole('provisioning', 'contract_manager', 'viewer', 'crm'),
    schema: { tags: ['devices'], summary: 'One device and its live state', security: [{ apiKey: [] }], params: Type.Object({ deviceId: DeviceId }), response: { 200: Type.Ref('Device'), ...Errors } },
  }, async (req) => {
    const device = await getDevice(db, req.params.deviceId)
    if (!device) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No device ${req.params.deviceId}.`)
    return device
  })

  app.delete('/devices/:deviceId', {
    onRequest: app.requireRole('provisioning'),
    schema: { tags: ['devices'], summary: 'Revoke a device: it can no longer log in and its messages are refused', security: [{ apiKey: [] }], params: Type.Object({ deviceId: DeviceId }), response: { 204: Type.Null(), ...Errors } },
  }, async (req, reply) => {
    if (!(await revokeDevice(db, req.params.deviceId))) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No active device ${req.params.deviceId}.`)
    return reply.code(204).send(null)
  })

  app.get('/devices/:deviceId/readings', {
    onRequest: app.requireRole('contract_manager', 'crm', 'viewer'),
    schema: {
      tags: ['telemetry'], summary: 'Raw readings of a bin sensor in a time range', security: [{ apiKey: [] }],
      params: Type.Object({ deviceId: DeviceId }),
      querystring: Type.Composite([TimeRange, Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }) })]),
      response: { 200: Type.Array(Type.Ref('Reading')), ...Errors },
    },
  }, async (req) => {
    const { from, to } = checkRange(req.query.from, req.query.to)
    return readingsOf(db, req.params.deviceId, from, to, req.query.limit)
  })

  app.get('/devices/:deviceId/readings/aggregate', {
    onRequest: app.requireRole('contract_manager', 'crm', 'viewer'),
    schema: {
      tags: ['telemetry'], summary: 'Readings in time buckets: count, mean, min and max fill, max temperature, min battery', security: [{ apiKey: [] }],
      params: Type.Object({ deviceId: DeviceId }),
      querystring: Type.Composite([TimeRange, Type.Object({ bucket: Type.Union(BUCKET_NAMES.map((b) => Type.Literal(b)), { default: '1h' }) })]),
      response: { 200: Type.Array(Type.Ref('ReadingBucket')), ...Errors },
    },
  }, async (req) => {
    const { from, to } = checkRange(req.query.from, req.query.to)
    return readingAggregates(db, req.params.deviceId, from, to, BUCKET_SECONDS[req.query.bucket as BucketName])
  })
}
