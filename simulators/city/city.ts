// The shape of a generated city: the registry the council would hold (`dataset`, in the import
// format), the devices to provision, and the extra facts the simulators need (route order, streets,
// depot) that a registry does not carry.
import type { ContractRow, ContractorRow, RegistryDataset } from '../../core/contract/registry.ts'
import type { DeviceKind } from '../../core/contract/topics.ts'
import type { LaidStreet, LatLon } from './layout.ts'

/** The streams a generated city collects (glass is left to councils that collect it separately). */
export const CITY_STREAMS = ['residual', 'recycling', 'garden', 'food'] as const
export type CityStream = (typeof CITY_STREAMS)[number]

export interface CityOptions {
  seed: number
  households: number
  /** First day the city runs, YYYY-MM-DD: fortnightly rounds alternate from the week that holds it. */
  start: string
  /** Share of wheeled bins (not food caddies) fitted with a fill sensor; default 0.1. */
  sensorShare?: number
  /** Share of households subscribed to garden waste; default 0.4. */
  gardenShare?: number
  /** Share of households with a food caddy; default 0.3. */
  foodShare?: number
  /** Share of households on assisted collection; default 0.03. */
  assistedShare?: number
  /** Target lifts per vehicle per working day; default 1,000 (UK rounds run 800–1,200). */
  liftsPerVehicleDay?: number
  /** ISO weekdays with collections; default Monday to Friday. */
  weekdays?: number[]
  /** Round hours, HH:MM London time; default 07:00–15:00. */
  roundStartsAt?: string
  roundEndsAt?: string
  centre?: LatLon
}

export type ResolvedCityOptions = Required<CityOptions>

export interface CityHousehold {
  index: number
  uprn: number
  address: string
  postcode: string
  street: number
  ward: string
  lat: number
  lon: number
  assisted: boolean
  /** ISO weekday of the household's collections. */
  weekday: number
}

export interface CityBin {
  index: number
  binId: string
  household: number
  uprn: number
  stream: CityStream
  tag: string
  capacityL: number
  sensorDeviceId: string | null
}

export type VehicleRole = 'rcv' | 'garden' | 'food' | 'spare'

export interface CityVehicle {
  vehicleId: string
  registration: string
  role: VehicleRole
  capacityKg: number
  unitDeviceId: string
}

export interface CityRound {
  roundId: string
  name: string
  stream: CityStream
  vehicleId: string
  weekday: number
  frequency: 'weekly' | 'fortnightly'
  anchorDate: string
  startsAt: string
  endsAt: string
  subscription: boolean
  /** Household indices in driving order. */
  stops: number[]
}

export interface CityDevice {
  deviceId: string
  kind: DeviceKind
  binId?: string
  vehicleId?: string
}

export interface City {
  options: ResolvedCityOptions
  centre: LatLon
  /** Where vehicles start and end their day, and where they tip their load. */
  depot: LatLon
  tip: LatLon
  households: CityHousehold[]
  streets: LaidStreet[]
  wards: string[]
  bins: CityBin[]
  /** binOf[stream][household index] → bin index, or -1. */
  binOf: Record<CityStream, Int32Array>
  rounds: CityRound[]
  vehicles: CityVehicle[]
  contractor: ContractorRow
  contract: ContractRow & Required<Pick<ContractRow, 'reportOpensHour' | 'reportWindowWorkingDays' | 'rectifyWorkingDays'>>
  /** Garden-waste subscriptions start on this day (open-ended). */
  subscriptionsStart: string
  /** The registry as the council would import it. */
  dataset: Required<RegistryDataset>
  devices: CityDevice[]
}
