// What the import, export and checks need to know about each registry entity, beyond its row
// shape (core/contract/registry.ts): its key, and which of its text fields are calendar days.
import type { TObject } from '@sinclair/typebox'
import {
  BinRow, ContractorRow, ContractRow, HouseholdRow, RoundRow, RoundStopRow, SubscriptionRow, VehicleRow,
  REGISTRY_ENTITIES, type RegistryDataset, type RegistryEntity,
} from '../../core/contract/registry.ts'

export { REGISTRY_ENTITIES, type RegistryEntity }

export const ROW_SCHEMAS: Record<RegistryEntity, TObject> = {
  contractors: ContractorRow,
  households: HouseholdRow,
  bins: BinRow,
  vehicles: VehicleRow,
  contracts: ContractRow,
  rounds: RoundRow,
  roundStops: RoundStopRow,
  subscriptions: SubscriptionRow,
}

/** The fields that identify a row (the table's primary key). */
export const ENTITY_KEYS: Record<RegistryEntity, readonly string[]> = {
  contractors: ['contractorId'],
  households: ['uprn'],
  bins: ['binId'],
  vehicles: ['vehicleId'],
  contracts: ['contractId'],
  rounds: ['roundId'],
  roundStops: ['roundId', 'uprn'],
  subscriptions: ['uprn', 'stream', 'startsOn'],
}

/** YYYY-MM-DD fields, which must also be real days (the pattern lets 2026-02-30 through). */
export const DATE_FIELDS: Partial<Record<RegistryEntity, readonly string[]>> = {
  contracts: ['startsOn', 'endsOn'],
  rounds: ['anchorDate'],
  subscriptions: ['startsOn', 'endsOn'],
}

export type EntityRow<E extends RegistryEntity> = NonNullable<RegistryDataset[E]>[number]

export const isRegistryEntity = (s: string): s is RegistryEntity => (REGISTRY_ENTITIES as readonly string[]).includes(s)

/** A row as read from a file, with its row number (see ImportError.row). */
export interface Entry<T = unknown> {
  row: number
  value: T
}

export type Entries = Partial<Record<RegistryEntity, Entry[]>>
