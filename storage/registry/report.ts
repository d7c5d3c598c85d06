// The answer to an import: what was written, or every reason nothing was. Declared once, as a
// TypeBox schema: the API's response, the CLI's printout and the code's type all come from it.
import { Type, type Static } from '@sinclair/typebox'
import { REGISTRY_ENTITIES, type RegistryEntity } from './entities.ts'

export const ImportError = Type.Object({
  entity: Type.String({ description: 'Entity (file) of the row; "dataset" for the input as a whole' }),
  row: Type.Integer({
    minimum: 0,
    description: '1-based data row within the entity: index + 1 in the JSON list; in a CSV file the line the record starts on minus the header line (data row 1 = line 2). 0 = the file or list as a whole (a missing column, a list that is not a list).',
  }),
  field: Type.Optional(Type.String({ description: 'Field (column) at fault' })),
  message: Type.String(),
}, { $id: 'ImportError' })
export type ImportError = Static<typeof ImportError>

export const EntityCount = Type.Object({
  inserted: Type.Integer(),
  updated: Type.Integer({ description: 'Existing rows whose values changed' }),
  unchanged: Type.Integer({ description: 'Existing rows given again with the same values' }),
  removed: Type.Integer({ description: 'Round stops no longer listed for a round that the input lists' }),
})
export type EntityCount = Static<typeof EntityCount>

export const ImportReport = Type.Object({
  ok: Type.Boolean({ description: 'true: written (or, on a dry run, would be); false: nothing was written' }),
  dryRun: Type.Boolean(),
  counts: Type.Object(Object.fromEntries(REGISTRY_ENTITIES.map((e) => [e, EntityCount])) as Record<RegistryEntity, typeof EntityCount>),
  errors: Type.Array(ImportError),
  calendar: Type.Optional(Type.Object({
    from: Type.String(), to: Type.String(), inserted: Type.Integer(), updated: Type.Integer(), removed: Type.Integer(), ms: Type.Integer(),
  }, { description: 'The collection calendar brought up to date after the import' })),
  ms: Type.Integer({ description: 'Time taken' }),
}, { $id: 'ImportReport' })
export type ImportReport = Static<typeof ImportReport>

export const emptyCounts = (): Record<RegistryEntity, EntityCount> =>
  Object.fromEntries(REGISTRY_ENTITIES.map((e) => [e, { inserted: 0, updated: 0, unchanged: 0, removed: 0 }])) as Record<RegistryEntity, EntityCount>

/** Errors in reading order: by entity (import order), then row, then field. */
export function sortErrors(errors: ImportError[]): ImportError[] {
  const order = (e: string) => (REGISTRY_ENTITIES as readonly string[]).indexOf(e)
  return errors.sort((a, b) => order(a.entity) - order(b.entity) || a.entity.localeCompare(b.entity) || a.row - b.row || (a.field ?? '').localeCompare(b.field ?? ''))
}
