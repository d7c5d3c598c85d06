// The registry as CSV: one file per entity (households.csv, bins.csv, …) whose header row names
// the columns, which are the property names of the entity's row schema. An empty cell is an absent
// value. A missing required column or an unknown one is an error for the whole file.
import { Readable } from 'node:stream'
import { parse } from 'csv-parse'
import { Kind, type TSchema } from '@sinclair/typebox'
import { ROW_SCHEMAS, isRegistryEntity, type Entries, type Entry, type RegistryEntity } from './entities.ts'
import type { ImportError } from './report.ts'
import { alternatives } from './row-check.ts'

type CellKind = 'integer' | 'number' | 'boolean' | 'string'

function cellKind(schema: TSchema): CellKind {
  const kind = alternatives(schema)[0]?.[Kind]
  return kind === 'Integer' ? 'integer' : kind === 'Number' ? 'number' : kind === 'Boolean' ? 'boolean' : 'string'
}

const INTEGER_RE = /^[+-]?\d+$/
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const BOOLEANS: Record<string, boolean> = { true: true, false: false, yes: true, no: false, y: true, n: false, '1': true, '0': false }

/**
 * A cell as the value its column expects. Strict on purpose (TypeBox's Value.Convert would turn
 * "12.5" into the integer 12): text that is not a number is left as text, and the schema check then
 * reports it with its row.
 */
export function coerceCell(kind: CellKind, text: string): unknown {
  switch (kind) {
    case 'integer': return INTEGER_RE.test(text) ? Number(text) : text
    case 'number': return NUMBER_RE.test(text) ? Number(text) : text
    case 'boolean': return BOOLEANS[text.toLowerCase()] ?? text
    case 'string': return text
  }
}

/** Required properties of an entity (the columns a file must have). */
const requiredColumns = (entity: RegistryEntity): string[] => (ROW_SCHEMAS[entity].required as string[] | undefined) ?? []

export interface ParsedCsv {
  entries: Entry[]
  errors: ImportError[]
}

/**
 * Read one entity's CSV. Rows are numbered by the line they start on minus the header line, so data
 * row 1 is line 2 of the file (blank lines count as lines but are not rows).
 */
export async function parseEntityCsv(entity: RegistryEntity, source: string | Buffer | Readable): Promise<ParsedCsv> {
  const props = ROW_SCHEMAS[entity].properties
  const input = typeof source === 'string' || Buffer.isBuffer(source) ? Readable.from([source]) : source
  const parser = input.pipe(parse({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true }))
  const entries: Entry[] = []
  const errors: ImportError[] = []
  let columns: { name: string; kind: CellKind }[] | null = null
  let lastLine = 0
  let lastEmpty = 0
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number; empty_lines: number } }>) {
      const startLine = lastLine + 1 + (info.empty_lines - lastEmpty)
      lastLine = info.lines
      lastEmpty = info.empty_lines
      if (columns === null) {
        const names = record.map((c) => c.trim())
        const seen = new Set<string>()
        for (const name of names) {
          if (!(name in props)) errors.push({ entity, row: 0, field: name, message: `unknown column ${JSON.stringify(name)}; the columns of ${entity} are ${Object.keys(props).join(', ')}` })
          else if (seen.has(name)) errors.push({ entity, row: 0, field: name, message: `column ${name} appears twice` })
          seen.add(name)
        }
        for (const name of requiredColumns(entity)) if (!seen.has(name)) errors.push({ entity, row: 0, field: name, message: `column ${name} missing` })
        if (errors.length > 0) {
          parser.destroy()
          input.destroy()
          return { entries: [], errors }
        }
        columns = names.map((name) => ({ name, kind: cellKind(props[name]!) }))
        continue
      }
      const row = startLine - 1
      if (record.length !== columns.length) {
        errors.push({ entity, row, message: `has ${record.length} cells but the header has ${columns.length} columns` })
        continue
      }
      const value: Record<string, unknown> = {}
      for (let i = 0; i < columns.length; i++) {
        const cell = record[i]!
        if (cell !== '') value[columns[i]!.name] = coerceCell(columns[i]!.kind, cell)
      }
      entries.push({ row, value })
    }
  } catch (err) {
    const e = err as { code?: string; lines?: number; message: string }
    if (!e.code?.startsWith('CSV_')) throw err
    // csv-parse's message says at which line; the file as a whole cannot be read.
    errors.push({ entity, row: 0, message: `the file is not valid CSV: ${e.message}` })
  }
  if (columns === null && errors.length === 0) errors.push({ entity, row: 0, message: 'the file is empty; the first line must name the columns' })
  return { entries, errors }
}

/** The entity a CSV file is for, from its name (bins.csv → bins), or null. */
export function entityOfFile(fileName: string): RegistryEntity | null {
  const base = fileName.replace(/^.*[\\/]/, '').replace(/\.csv$/i, '')
  return isRegistryEntity(base) ? base : null
}

/** Read several entities' CSV files into one set of entries and the errors found while reading. */
export async function parseCsvFiles(files: Partial<Record<RegistryEntity, string | Buffer | Readable>>): Promise<{ entries: Entries; errors: ImportError[] }> {
  const entries: Entries = {}
  const errors: ImportError[] = []
  for (const [entity, source] of Object.entries(files) as [RegistryEntity, string | Buffer | Readable][]) {
    const parsed = await parseEntityCsv(entity, source)
    entries[entity] = parsed.entries
    errors.push(...parsed.errors)
  }
  return { entries, errors }
}
