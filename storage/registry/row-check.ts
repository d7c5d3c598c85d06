// Row-by-row validation against the registry row schemas (TypeBox, compiled once), reporting every
// invalid field of every row in words a council officer can act on.
import { Kind, type TObject, type TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { isIsoDate } from '../../analysis/calendar/dates.ts'
import { DATE_FIELDS, REGISTRY_ENTITIES, ROW_SCHEMAS, type Entry, type RegistryEntity } from './entities.ts'
import type { ImportError } from './report.ts'

const checkers = Object.fromEntries(REGISTRY_ENTITIES.map((e) => [e, TypeCompiler.Compile(ROW_SCHEMAS[e])])) as Record<RegistryEntity, TypeCheck<TObject>>

const show = (v: unknown): string => {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}…` : s
}

/** The non-null alternatives of a property schema (fields are often `T | null`). */
export function alternatives(schema: TSchema): TSchema[] {
  if (schema[Kind] !== 'Union') return [schema]
  return (schema.anyOf as TSchema[]).filter((s) => s[Kind] !== 'Null')
}

/** Why `value` does not fit the property schema, as one sentence. */
export function describeProblem(schema: TSchema | undefined, value: unknown, fallback: string): string {
  if (value === undefined) return 'is required'
  if (!schema) return 'is not a field of this entity'
  const alts = alternatives(schema)
  if (alts.length > 0 && alts.every((s) => s[Kind] === 'Literal')) return `must be one of ${alts.map((s) => s.const as string).join(', ')} (got ${show(value)})`
  if (alts.length === 1) {
    const first = Value.Errors(alts[0]!, value).First()
    if (first) return `${first.message.replace(/^Expected/, 'expected')} (got ${show(value)})`
  }
  return `${fallback.replace(/^Expected/, 'expected')} (got ${show(value)})`
}

/** UK postcodes are compared in capitals with one space; accept what people type. */
function normalise(entity: RegistryEntity, value: unknown): unknown {
  if (entity !== 'households' || typeof value !== 'object' || value === null) return value
  const pc = (value as { postcode?: unknown }).postcode
  if (typeof pc !== 'string') return value
  return { ...value, postcode: pc.trim().toUpperCase().replace(/\s+/g, ' ') }
}

/**
 * Check every entry of one entity; push one error per invalid field (or unknown field). Returns the
 * valid rows, with their row numbers, in input order.
 */
export function checkRows<T>(entity: RegistryEntity, entries: Entry[], errors: ImportError[]): Entry<T>[] {
  const check = checkers[entity]
  const props = ROW_SCHEMAS[entity].properties
  const dateFields = DATE_FIELDS[entity] ?? []
  const valid: Entry<T>[] = []
  for (const { row, value: raw } of entries) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      errors.push({ entity, row, message: `must be an object with the fields of ${entity}, got ${show(raw)}` })
      continue
    }
    const value = normalise(entity, raw) as Record<string, unknown>
    let ok = check.Check(value)
    if (!ok) {
      const seen = new Set<string>()
      for (const e of check.Errors(value)) {
        const field = e.path.split('/')[1] ?? ''
        if (seen.has(field)) continue
        seen.add(field)
        errors.push({ entity, row, field: field || undefined, message: field ? describeProblem(props[field], value[field], e.message) : e.message })
      }
    }
    for (const f of dateFields) {
      const v = value[f]
      if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && !isIsoDate(v)) {
        errors.push({ entity, row, field: f, message: `is not a real day (got ${show(v)})` })
        ok = false
      }
    }
    if (ok) valid.push({ row, value: value as T })
  }
  return valid
}
