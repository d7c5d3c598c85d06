// `kerbside import` and `kerbside export`: the registry to and from JSON or CSV files, with
// progress on large imports and the row-by-row report of an invalid one (exit code 1).
// The embedded database belongs to one process: with `kerbside start` running on the same data
// folder, use the API (POST /api/v1/registry/import) instead.
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import type { Config } from '../core/config.ts'
import type { Logger } from '../core/log.ts'
import { REGISTRY_ENTITIES, type RegistryEntity } from '../core/contract/registry.ts'
import type { ImportProgress, ImportReport } from '../storage/registry/import.ts'
import type { Database } from '../storage/database.ts'
import { openDatabase } from '../storage/open-database.ts'
import { EmbeddedDatabaseBusyError } from '../storage/pglite-adapter.ts'
import { ApiClientError, localApi } from './api-client.ts'
import type { ExtraCommand } from './commands.ts'
import { plainImportMessage } from './import-messages.ts'

class RegistryUsageError extends Error {
  override name = 'KERBSIDE_ERR_USAGE'
}

/** Errors printed before "… and N more". */
const SHOWN_ERRORS = 200

const isEntity = (s: string | undefined): s is RegistryEntity => (REGISTRY_ENTITIES as readonly string[]).includes(s ?? '')

async function withDb<T>({ config, logger }: { config: Config; logger: Logger }, fn: (db: Database) => Promise<T>): Promise<T> {
  // The CLI prints its own progress; the services' info logs would only interleave with it.
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.KERBSIDE_DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
    tierCeiling: config.DATABASE_TIER,
    logger: logger.child({ component: 'database' }, { level: 'warn' }),
  })
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

/** A line every few seconds, and one when an entity is done. */
export function progressPrinter(print: (line: string) => void, everyMs = 3000): (p: ImportProgress) => void {
  let last = 0
  return ({ entity, done, total }) => {
    const now = Date.now()
    if (done < total && now - last < everyMs) return
    last = now
    print(`  ${entity.padEnd(14)}${String(done).padStart(9)} / ${total} (${total ? Math.floor((done / total) * 100) : 100}%)`)
  }
}

/** The report as lines a person reads: every count, or every error (the first SHOWN_ERRORS of them). */
export function formatReport(report: ImportReport, csv: boolean): string[] {
  const lines: string[] = []
  if (!report.ok) {
    lines.push(`The registry was NOT imported: ${report.errors.length} error(s). Nothing was written.`)
    for (const e of report.errors.slice(0, SHOWN_ERRORS)) {
      const where = e.row === 0 ? `${e.entity}` : `${e.entity} row ${e.row}${csv ? ` (line ${e.row + 1})` : ''}`
      lines.push(`  ${where}${e.field ? `, ${e.field}` : ''}: ${plainImportMessage(e.field, e.message)}`)
    }
    if (report.errors.length > SHOWN_ERRORS) lines.push(`  … and ${report.errors.length - SHOWN_ERRORS} more (--report <file.json> writes every error)`)
    lines.push('Every column, with examples: docs/import-columns.md')
    return lines
  }
  lines.push(report.dryRun ? 'Dry run: the registry is valid; nothing was kept.' : `Imported in ${(report.ms / 1000).toFixed(1)} s:`)
  for (const [entity, c] of Object.entries(report.counts)) {
    if (c.inserted + c.updated + c.unchanged + c.removed === 0) continue
    lines.push(`  ${entity.padEnd(14)}${c.inserted} new, ${c.updated} changed, ${c.unchanged} unchanged${c.removed ? `, ${c.removed} removed` : ''}`)
  }
  if (report.calendar) {
    const k = report.calendar
    lines.push(`Collection calendar ${k.from}..${k.to}: ${k.inserted} new, ${k.updated} changed, ${k.removed} removed (${(k.ms / 1000).toFixed(1)} s)`)
  }
  return lines
}

/** The CSV files of a folder, by entity; other .csv names are a usage error (a typo would otherwise be skipped). */
function csvFolder(dir: string): Partial<Record<RegistryEntity, Readable>> {
  const files: Partial<Record<RegistryEntity, Readable>> = {}
  const unknown: string[] = []
  for (const name of readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.csv'))) {
    const entity = name.slice(0, -4)
    if (isEntity(entity)) files[entity] = createReadStream(join(dir, name))
    else unknown.push(name)
  }
  if (unknown.length > 0) throw new RegistryUsageError(`${dir}: ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not a registry file; the files are ${REGISTRY_ENTITIES.map((e) => `${e}.csv`).join(', ')}`)
  if (Object.keys(files).length === 0) throw new RegistryUsageError(`${dir} holds no registry CSV files (${REGISTRY_ENTITIES.map((e) => `${e}.csv`).join(', ')})`)
  return files
}

export const importCommand: ExtraCommand = {
  name: 'import',
  usage: 'import <path> [--dry-run]',
  summary: 'import the registry: a JSON file, a folder of CSV files, or one CSV file (--entity)',
  async run(args, env) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true,
      options: { entity: { type: 'string' }, 'dry-run': { type: 'boolean' }, report: { type: 'string' } },
    })
    const path = positionals[0]
    if (!path || positionals.length > 1) throw new RegistryUsageError('usage: kerbside import <file.json | folder of CSV files | file.csv [--entity <name>]> [--dry-run] [--report <file.json>]')
    if (!existsSync(path)) throw new RegistryUsageError(`${path} does not exist`)
    const { importCsv, importRegistry } = await import('../storage/registry/import.ts')
    const opts = { dryRun: values['dry-run'] === true, onProgress: progressPrinter((l) => console.log(l)) }

    let csv = true
    let run: (db: Database) => Promise<ImportReport>
    if (statSync(path).isDirectory()) {
      const files = csvFolder(path)
      console.log(`Reading ${Object.keys(files).map((e) => `${e}.csv`).join(', ')} from ${path}`)
      run = (db) => importCsv(db, files, opts)
    } else if (path.toLowerCase().endsWith('.csv')) {
      const entity = values.entity ?? basename(path).slice(0, -4)
      if (!isEntity(entity)) throw new RegistryUsageError(`say which entity ${path} holds: --entity ${REGISTRY_ENTITIES.join('|')}`)
      run = (db) => importCsv(db, { [entity]: createReadStream(path) }, opts)
    } else {
      csv = false
      let dataset: unknown
      try {
        dataset = JSON.parse(await readFile(path, 'utf8'))
      } catch (err) {
        throw new RegistryUsageError(`${path} is not valid JSON: ${(err as Error).message}`)
      }
      run = (db) => importRegistry(db, dataset as Parameters<typeof importRegistry>[1], opts)
    }
    if (opts.dryRun) console.log('Dry run: checking and rehearsing; nothing will be kept.')
    let report: ImportReport
    try {
      report = await withDb(env, run)
    } catch (err) {
      if (!(err instanceof EmbeddedDatabaseBusyError)) throw err
      // A running Kerbside owns the embedded database: the same import through its API.
      console.log('Kerbside is running: importing through its API.')
      report = await importThroughApi(env.config, path, csv ? (statSync(path).isDirectory() ? 'folder' : 'csv') : 'json', values.entity, opts.dryRun)
    }
    for (const line of formatReport(report, csv)) console.log(line)
    if (values.report) {
      writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`)
      console.log(`Report written to ${values.report}`)
    }
    return report.ok ? 0 : 1
  },
}

export const exportCommand: ExtraCommand = {
  name: 'export',
  usage: 'export --format json|csv --out <path>',
  summary: 'export the registry: one JSON file, or CSV files into a folder (or one entity with --entity)',
  async run(args, env) {
    const { values } = parseArgs({ args, options: { format: { type: 'string', default: 'json' }, out: { type: 'string' }, entity: { type: 'string' } } })
    const { format, out, entity } = values
    if (format !== 'json' && format !== 'csv') throw new RegistryUsageError('--format must be json or csv')
    if (!out) throw new RegistryUsageError('--out <file> (json) or --out <folder> (csv) is required')
    if (entity !== undefined && !isEntity(entity)) throw new RegistryUsageError(`--entity must be one of ${REGISTRY_ENTITIES.join(', ')}`)
    if (format === 'json' && entity) throw new RegistryUsageError('JSON exports the whole registry; --entity is for CSV')
    const { exportCsv, exportJson } = await import('../storage/registry/export.ts')
    await withDb(env, async (db) => {
      if (format === 'json') {
        await pipeline(Readable.from(exportJson(db)), createWriteStream(out))
        console.log(`Wrote the registry to ${out}`)
        return
      }
      if (entity && out.toLowerCase().endsWith('.csv')) {
        await pipeline(Readable.from(exportCsv(db, entity)), createWriteStream(out))
        console.log(`Wrote ${entity} to ${out}`)
        return
      }
      mkdirSync(out, { recursive: true })
      for (const e of entity ? [entity] : REGISTRY_ENTITIES) {
        await pipeline(Readable.from(exportCsv(db, e)), createWriteStream(join(out, `${e}.csv`)))
        console.log(`Wrote ${join(out, `${e}.csv`)}`)
      }
    })
    return 0
  },
}

/** A usage mistake is one line on stderr and exit code 1, not a stack trace. */
const friendly = (cmd: ExtraCommand): ExtraCommand => ({
  ...cmd,
  async run(args, env) {
    try {
      return await cmd.run(args, env)
    } catch (err) {
      if (!(err instanceof RegistryUsageError) && (err as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw err
      console.error(`kerbside ${cmd.name}: ${(err as Error).message}`)
      return 1
    }
  },
})

export const registryCommands: ExtraCommand[] = [importCommand, exportCommand].map(friendly)

/**
 * The import through a running Kerbside's API (POST /registry/import). JSON goes whole; CSV one
 * entity a request, a folder's files in the registry's order (households before bins, rounds before
 * their stops), stopping at the first that is refused: those before it stay imported, and the
 * report says which.
 */
async function importThroughApi(config: Config, path: string, kind: 'json' | 'csv' | 'folder', entity: string | undefined, dryRun: boolean): Promise<ImportReport> {
  const api = localApi(config)
  // The file is sent as it is (JSON or CSV), so the body is the text and the client does not serialise it.
  const post = async (entity: RegistryEntity | undefined, type: string, data: string): Promise<ImportReport> => {
    const { data: report, error, response } = await api.POST('/api/v1/registry/import', {
      params: { query: { dryRun, entity } }, body: data as never, bodySerializer: () => data, headers: { 'content-type': type },
    })
    // A refused import still answers its report (the rows that failed and why).
    const body = (report ?? error) as (ImportReport & { message?: string }) | null | undefined
    if (body && Array.isArray(body.errors)) return body
    throw new ApiClientError(`POST /registry/import: ${response.status} ${body?.message ?? response.statusText}`, response.status)
  }
  if (kind === 'json') return post(undefined, 'application/json', await readFile(path, 'utf8'))
  const files: [RegistryEntity, string][] = kind === 'csv'
    ? [[(entity ?? basename(path).slice(0, -4)) as RegistryEntity, path]]
    : REGISTRY_ENTITIES.filter((e) => existsSync(join(path, `${e}.csv`))).map((e) => [e, join(path, `${e}.csv`)])
  let last: ImportReport | null = null
  for (const [name, file] of files) {
    last = await post(name, 'text/csv', await readFile(file, 'utf8'))
    if (!last.ok) {
      const before = files.slice(0, files.findIndex(([n]) => n === name)).map(([n]) => n)
      if (before.length > 0 && !dryRun) console.log(`Imported before the error: ${before.join(', ')}.`)
      return last
    }
    console.log(`  ${name}: ${dryRun ? 'valid' : 'imported'}`)
  }
  return last!
}