// The answer to an import: what was written, or every reason nothing was.
import { REGISTRY_ENTITIES, type RegistryEntity } from './entities.ts'

/**
 * One problem with the input. `row` is the 1-based data row within that entity: the index + 1 in
 * the JSON list, or in a CSV file the line the record starts on minus the header line (data row 1
 * is line 2). Row 0 means the file or list as a whole (a missing column, a list that is not a list).
 */
export interface ImportError {
  entity: string
  row: number
  field?: string
  message: string
}

export interface EntityCount {
  inserted: number
  /** Existing rows whose values changed. */
  updated: number
  /** Existing rows given again with the same values. */
  unchanged: number
  /** Rows the file replaced away: round stops no longer on a round listed in the file. */
  removed: number
}

export interface ImportReport {
  ok: boolean
  dryRun: boolean
  counts: Record<RegistryEntity, EntityCount>
  errors: ImportError[]
  /** The calendar brought up to date after the import (absent on a dry run or an invalid file). */
  calendar?: { from: string; to: string; inserted: number; updated: number; removed: number; ms: number }
  ms: number
}

export const emptyCounts = (): Record<RegistryEntity, EntityCount> =>
  Object.fromEntries(REGISTRY_ENTITIES.map((e) => [e, { inserted: 0, updated: 0, unchanged: 0, removed: 0 }])) as Record<RegistryEntity, EntityCount>

/** Errors in reading order: by entity (import order), then row, then field. */
export function sortErrors(errors: ImportError[]): ImportError[] {
  const order = (e: string) => {
    const i = (REGISTRY_ENTITIES as readonly string[]).indexOf(e)
    return i < 0 ? -1 : i
  }
  return errors.sort((a, b) => order(a.entity) - order(b.entity) || a.entity.localeCompare(b.entity) || a.row - b.row || (a.field ?? '').localeCompare(b.field ?? ''))
}
