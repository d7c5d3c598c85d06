// A deterministic, seeded city: from a few hundred households up to a Liverpool-sized one
// (~210,000) in a few seconds. The same options give the same city, byte for byte.
import type { BinRow, HouseholdRow, RoundRow, RoundStopRow, SubscriptionRow, VehicleRow } from '../../core/contract/registry.ts'
import { addDays, isIsoDate } from '../../analysis/calendar/dates.ts'
import { DEVICE_ID_PATTERN } from '../../core/contract/topics.ts'
import { Random } from '../random.ts'
import { CITY_STREAMS, type City, type CityBin, type CityDevice, type CityHousehold, type CityOptions, type CityStream, type CityVehicle, type ResolvedCityOptions } from './city.ts'
import { crmRef, registrations, rfidTag, uprns } from './identifiers.ts'
import { layOutCity, metresToLatLon } from './layout.ts'
import { assignWeekdays, CAPACITY_KG, planRounds } from './rounds.ts'

/** Liverpool Town Hall. */
export const LIVERPOOL = { lat: 53.4084, lon: -2.9916 } as const

export class CityOptionsError extends Error {
  override name = 'KERBSIDE_ERR_CITY_OPTIONS'
}

const COLOURS: Record<CityStream, string> = { residual: 'grey', recycling: 'blue', garden: 'green', food: 'brown' }
const BIN_CODE: Record<CityStream, string> = { residual: 'res', recycling: 'rec', garden: 'gdn', food: 'food' }
const DEVICE_ID_RE = new RegExp(DEVICE_ID_PATTERN)

export function resolveCityOptions(o: CityOptions): ResolvedCityOptions {
  const share = (name: string, v: number | undefined, def: number) => {
    const x = v ?? def
    if (!(x >= 0 && x <= 1)) throw new CityOptionsError(`${name} must be between 0 and 1, not ${x}`)
    return x
  }
  if (!Number.isInteger(o.seed)) throw new CityOptionsError(`seed must be an integer, not ${o.seed}`)
  if (!Number.isInteger(o.households) || o.households < 1 || o.households > 2_000_000) throw new CityOptionsError(`households must be an integer from 1 to 2,000,000, not ${o.households}`)
  if (!isIsoDate(o.start)) throw new CityOptionsError(`start must be a date written YYYY-MM-DD, not ${JSON.stringify(o.start)}`)
  const weekdays = o.weekdays ?? [1, 2, 3, 4, 5]
  if (weekdays.length === 0 || weekdays.some((d) => !Number.isInteger(d) || d < 1 || d > 7) || new Set(weekdays).size !== weekdays.length) {
    throw new CityOptionsError(`weekdays must be distinct ISO weekdays 1–7, not ${JSON.stringify(weekdays)}`)
  }
  const time = (name: string, v: string | undefined, def: string) => {
    const t = v ?? def
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(t)) throw new CityOptionsError(`${name} must be HH:MM, not ${JSON.stringify(t)}`)
    return t
  }
  const resolved: ResolvedCityOptions = {
    seed: o.seed,
    households: o.households,
    start: o.start,
    sensorShare: share('sensorShare', o.sensorShare, 0.1),
    gardenShare: share('gardenShare', o.gardenShare, 0.4),
    foodShare: share('foodShare', o.foodShare, 0.3),
    assistedShare: share('assistedShare', o.assistedShare, 0.03),
    liftsPerVehicleDay: o.liftsPerVehicleDay ?? 1_000,
    weekdays: [...weekdays].sort((a, b) => a - b),
    roundStartsAt: time('roundStartsAt', o.roundStartsAt, '07:00'),
    roundEndsAt: time('roundEndsAt', o.roundEndsAt, '15:00'),
    centre: o.centre ?? { ...LIVERPOOL },
  }
  if (!(resolved.liftsPerVehicleDay >= 1)) throw new CityOptionsError('liftsPerVehicleDay must be at least 1')
  if (resolved.roundStartsAt >= resolved.roundEndsAt) throw new CityOptionsError('roundStartsAt must be before roundEndsAt')
  return resolved
}

/** The first of the month at least `days` before `date`. */
const monthStartBefore = (date: string, days: number) => `${addDays(date, -days).slice(0, 7)}-01`

export function generateCity(options: CityOptions): City {
  const o = resolveCityOptions(options)
  const rng = new Random(o.seed)
  const layout = layOutCity(rng.fork('layout'), o.households, o.centre)
  const ids = uprns(rng.fork('uprns'), o.households)
  const people = rng.fork('households')

  const households: CityHousehold[] = layout.houses.map((h) => ({
    index: h.index,
    uprn: ids[h.index]!,
    address: `${h.houseNumber} ${layout.streets[h.street]!.name}`,
    postcode: h.postcode,
    street: h.street,
    ward: layout.wards[h.ward]!,
    lat: h.lat,
    lon: h.lon,
    assisted: people.chance(o.assistedShare),
    weekday: 0,
  }))
  assignWeekdays(households, o.weekdays)

  // Bins: residual and recycling for all, garden for subscribers, a caddy for food where offered.
  const binRng = rng.fork('bins')
  const citySalt = rng.fork('tags').int(0, 0x7fffffff)
  const bins: CityBin[] = []
  const binOf = Object.fromEntries(CITY_STREAMS.map((s) => [s, new Int32Array(o.households).fill(-1)])) as Record<CityStream, Int32Array>
  const addBin = (h: CityHousehold, stream: CityStream, capacityL: number) => {
    const index = bins.length
    bins.push({ index, binId: `bin-${h.uprn}-${BIN_CODE[stream]}`, household: h.index, uprn: h.uprn, stream, tag: rfidTag(citySalt, index), capacityL, sensorDeviceId: null })
    binOf[stream][h.index] = index
  }
  for (const h of households) {
    addBin(h, 'residual', binRng.weighted([[240, 0.82], [140, 0.1], [360, 0.08]] as const))
    addBin(h, 'recycling', 240)
    if (binRng.chance(o.gardenShare)) addBin(h, 'garden', 240)
    if (binRng.chance(o.foodShare)) addBin(h, 'food', 23)
  }

  // Sensors on an exact share of the wheeled bins (caddies are too small to carry one).
  const wheeled = bins.filter((b) => b.stream !== 'food').map((b) => b.index)
  const sensorCount = Math.round(wheeled.length * o.sensorShare)
  const sensorRng = rng.fork('sensors')
  for (let i = 0; i < sensorCount; i++) {
    const j = sensorRng.int(i, wheeled.length - 1) // partial Fisher–Yates: the first i are chosen
    ;[wheeled[i], wheeled[j]] = [wheeled[j]!, wheeled[i]!]
  }
  for (const bi of wheeled.slice(0, sensorCount).sort((a, b) => a - b)) {
    const bin = bins[bi]!
    bin.sensorDeviceId = `sensor-${bin.uprn}-${BIN_CODE[bin.stream]}`
  }

  const plan = planRounds({
    households,
    has: (stream, h) => binOf[stream][h]! >= 0,
    weekdays: o.weekdays,
    liftsPerVehicleDay: o.liftsPerVehicleDay,
    start: o.start,
    startsAt: o.roundStartsAt,
    endsAt: o.roundEndsAt,
  })
  const plates = registrations(rng.fork('plates'), plan.vehicles.length)
  const vehicles: CityVehicle[] = plan.vehicles.map((v, i) => ({ vehicleId: v.vehicleId, registration: plates[i]!, role: v.role, capacityKg: CAPACITY_KG[v.role], unitDeviceId: `unit-${v.vehicleId}` }))

  // Depot and waste transfer station out towards the edge of the built-up area.
  const reach = Math.max(1_500, layout.radiusM * 0.6)
  const depot = metresToLatLon(o.centre, reach * 0.9, reach * 0.45)
  const tip = metresToLatLon(o.centre, reach * 0.2, reach * 1.1)

  const contractor = { contractorId: 'mersey-waste', name: 'Mersey Waste Services Ltd' }
  const contractStart = monthStartBefore(o.start, 90)
  const contract = {
    contractId: 'household-collections',
    contractorId: contractor.contractorId,
    name: 'Household waste and recycling collection',
    startsOn: contractStart,
    endsOn: null,
    // About £40 a household a year, paid monthly.
    monthlyPayment: Math.round(o.households * 3.35),
    targetMissedPer100k: 30,
    targetOnDayPct: 99.76,
    targetRectifiedPct: 98,
    pointsPerMiss: 1,
    pointsNotRectified: 2,
    repeatMultiplier: 2,
    repeatWindowDays: 84,
    pointValue: 50,
    deductionCapPct: 10,
    rectifyWorkingDays: 1,
    reportOpensHour: 16,
    reportWindowWorkingDays: 3,
  }

  const dataset: City['dataset'] = {
    contractors: [contractor],
    households: households.map((h): HouseholdRow => ({
      uprn: h.uprn, address: h.address, street: layout.streets[h.street]!.name, postcode: h.postcode, ward: h.ward, lat: h.lat, lon: h.lon, assisted: h.assisted, crmRef: crmRef(h.index + 1),
    })),
    bins: bins.map((b): BinRow => ({ binId: b.binId, uprn: b.uprn, stream: b.stream, rfidTag: b.tag, capacityL: b.capacityL, colour: COLOURS[b.stream], sensorDeviceId: b.sensorDeviceId })),
    vehicles: vehicles.map((v): VehicleRow => ({ vehicleId: v.vehicleId, registration: v.registration, contractorId: contractor.contractorId, capacityKg: v.capacityKg, unitDeviceId: v.unitDeviceId })),
    contracts: [contract],
    rounds: plan.rounds.map((r): RoundRow => ({
      roundId: r.roundId, contractId: contract.contractId, name: r.name, stream: r.stream, vehicleId: r.vehicleId, weekday: r.weekday, frequency: r.frequency,
      anchorDate: r.anchorDate, startsAt: r.startsAt, endsAt: r.endsAt, subscription: r.subscription, active: true,
    })),
    roundStops: plan.rounds.flatMap((r) => r.stops.map((h, position): RoundStopRow => ({ roundId: r.roundId, uprn: households[h]!.uprn, position }))),
    subscriptions: bins.filter((b) => b.stream === 'garden').map((b): SubscriptionRow => ({ uprn: b.uprn, stream: 'garden', startsOn: contractStart, endsOn: null })),
  }

  const devices: CityDevice[] = [
    ...bins.filter((b) => b.sensorDeviceId).map((b): CityDevice => ({ deviceId: b.sensorDeviceId!, kind: 'bin', binId: b.binId })),
    ...vehicles.map((v): CityDevice => ({ deviceId: v.unitDeviceId, kind: 'vehicle', vehicleId: v.vehicleId })),
  ]
  for (const d of devices) if (!DEVICE_ID_RE.test(d.deviceId)) throw new CityOptionsError(`generated device id ${d.deviceId} is not a valid device id`)

  return {
    options: o, centre: o.centre, depot, tip, households, streets: layout.streets, wards: layout.wards, bins, binOf,
    rounds: plan.rounds, vehicles, contractor, contract, subscriptionsStart: contractStart, dataset, devices,
  }
}
