// Registry import: all or nothing. Every row is checked against its schema, then across rows, files
// and the database; any error and nothing is written, and the report lists every error with its
// row. A valid input is written in one transaction, in bulk upserts of CHUNK rows, entity by
// entity in reference order; then the collection calendar is brought up to date (the registry and
// the calendar change together, so the import calls the calendar generator rather than leaving it
// to the next daily run).
// What a row means: it states the whole row (a field left out takes the column's default); a round
// that appears in roundStops gets exactly the stops given; devices are fitted by sensorDeviceId /
// unitDeviceId but never unfitted by an empty field (provisioning owns that).
// On the embedded database the transaction holds the database: other writers (ingest) wait for it.
import type { BinRow, RegistryDataset, RoundStopRow, VehicleRow } from '../../core/contract/registry.ts'
import { generateCalendar } from '../../analysis/calendar/generate.ts'
import { calendarHorizon } from '../../analysis/calendar/job.ts'
import type { Database } from '../database.ts'
import { parseCsvFiles } from './csv.ts'
import { crossCheck, type ValidRows } from './cross-check.ts'
import { REGISTRY_ENTITIES, isRegistryEntity, type Entries, type Entry, type RegistryEntity } from './entities.ts'
import { emptyCounts, sortErrors, type EntityCount, type ImportError, type ImportReport } from './report.ts'
import { checkRows } from './row-check.ts'
import { linkDevices, releaseTags, removeStaleStops, upsertChunk } from './upsert.ts'
import { upsertImportSensors } from '../lorawan-devices.ts'

export type { EntityCount, ImportError, ImportReport }

export interface ImportProgress {
  entity: string
  done: number
  total: number
}

export interface ImportOptions {
  /** Check everything and rehearse the writes in a transaction that is rolled back. */
  dryRun?: boolean
  onProgress?: (p: ImportProgress) => void
  /**
   * Calendar range to regenerate after a successful import; default today and the next eight
   * weeks (as the daily job keeps it); false to leave it to the caller.
   */
  calendar?: { from: string; to: string; today?: string } | false
}

/** Rows per INSERT statement: large enough to amortise a round trip, small enough to keep parameters modest. */
export const CHUNK = 5_000

/** Entities whose rows change which collections are due. */
const CALENDAR_INPUTS: RegistryEntity[] = ['contracts', 'rounds', 'roundStops', 'subscriptions']

/** Another import is running; imports are one at a time (they would otherwise check against each other's half-written rows). */
export class ImportBusyError extends Error {
  override name = 'KERBSIDE_ERR_IMPORT_BUSY'
}

class DryRunRollback extends Error {
  override name = 'KERBSIDE_DRY_RUN_ROLLBACK'
}

/** A JSON dataset as entries numbered 1, 2, … in list order; a shape error is a row-0 error. */
export function datasetEntries(dataset: unknown, errors: ImportError[]): Entries {
  const entries: Entries = {}
  if (typeof dataset !== 'object' || dataset === null || Array.isArray(dataset)) {
    errors.push({ entity: 'dataset', row: 0, message: `the registry must be an object with lists ${REGISTRY_ENTITIES.join(', ')}` })
    return entries
  }
  for (const [key, list] of Object.entries(dataset)) {
    if (!isRegistryEntity(key)) errors.push({ entity: key, row: 0, message: `unknown entity ${key}; the registry has ${REGISTRY_ENTITIES.join(', ')}` })
    else if (!Array.isArray(list)) errors.push({ entity: key, row: 0, message: `${key} must be a list of rows` })
    else entries[key] = list.map((value, i) => ({ row: i + 1, value }))
  }
  return entries
}

/** Import a registry given as JSON (the RegistryDataset shape). Rows are numbered from 1 in each list. */
export function importRegistry(db: Database, dataset: RegistryDataset, opts: ImportOptions = {}): Promise<ImportReport> {
  const errors: ImportError[] = []
  const entries = datasetEntries(dataset, errors)
  return importEntries(db, entries, errors, opts)
}

/** Import one CSV file per entity (see csv.ts for columns and row numbers). */
export async function importCsv(db: Database, files: Parameters<typeof parseCsvFiles>[0], opts: ImportOptions = {}): Promise<ImportReport> {
  const { entries, errors } = await parseCsvFiles(files)
  return importEntries(db, entries, errors, opts)
}

/**
 * Import entries read from any source (JSON lists, CSV files). `earlier` holds errors found while
 * reading (a missing column, a malformed line): they fail the import like any other.
 */
export async function importEntries(db: Database, entries: Entries, earlier: ImportError[], opts: ImportOptions = {}): Promise<ImportReport> {
  const outcome = await db.withLock('registry-import', () => checkAndWrite(db, entries, earlier, opts))
  if (!outcome.ran) throw new ImportBusyError('another registry import is running; try again when it has finished')
  return outcome.value
}

async function checkAndWrite(db: Database, entries: Entries, earlier: ImportError[], opts: ImportOptions): Promise<ImportReport> {
  const t0 = performance.now()
  const errors = [...earlier]
  const counts = emptyCounts()
  const dryRun = opts.dryRun === true
  const finish = (ok: boolean, calendar?: ImportReport['calendar']): ImportReport => ({ ok, dryRun, counts, errors: sortErrors(errors), ...(calendar ? { calendar } : {}), ms: Math.round(performance.now() - t0) })

  const valid = {} as ValidRows
  for (const e of REGISTRY_ENTITIES) (valid as Record<RegistryEntity, Entry[]>)[e] = checkRows(e, entries[e] ?? [], errors)
  const plan = await crossCheck(db, entries, valid, errors)
  if (errors.length > 0) return finish(false)

  try {
    await db.transaction(async (tx) => {
      for (const entity of REGISTRY_ENTITIES) {
        const rows = plan.rows[entity].map((e) => e.value)
        if (rows.length === 0) continue
        const count = counts[entity]
        opts.onProgress?.({ entity, done: 0, total: rows.length })
        if (entity === 'bins') await releaseTags(tx, plan.tagReleases)
        // The file lists the whole of each round it names: stops it leaves out have left the round.
        if (entity === 'roundStops') count.removed = await removeStaleStops(tx, rows as RoundStopRow[], CHUNK)
        for (let i = 0; i < rows.length; i += CHUNK) {
          const chunk = rows.slice(i, i + CHUNK)
          const r = await upsertChunk(tx, entity, chunk)
          count.inserted += r.inserted
          count.updated += r.updated
          opts.onProgress?.({ entity, done: i + chunk.length, total: rows.length })
        }
        count.unchanged = rows.length - count.inserted - count.updated
        if (entity === 'bins') await upsertImportSensors(tx, (rows as BinRow[]).filter((b) => b.sensorDevEui))
        if (entity === 'bins') await linkDevices(tx, 'bin', (rows as BinRow[]).filter((b) => b.sensorDeviceId && !b.sensorDevEui).map((b) => ({ deviceId: b.sensorDeviceId!, target: b.binId })))
        if (entity === 'vehicles') await linkDevices(tx, 'vehicle', (rows as VehicleRow[]).filter((v) => v.unitDeviceId).map((v) => ({ deviceId: v.unitDeviceId!, target: v.vehicleId })))
      }
      if (dryRun) throw new DryRunRollback()
    })
  } catch (err) {
    if (err instanceof DryRunRollback) return finish(true)
    // Checked rows should not break a constraint; if one does (the registry changed meanwhile), say so.
    const e = err as { code?: string; message: string; detail?: string }
    if (typeof e.code === 'string' && e.code.startsWith('23')) {
      errors.push({ entity: 'registry', row: 0, message: `the database refused the import, nothing was written: ${e.message}${e.detail ? ` (${e.detail})` : ''}` })
      for (const c of Object.values(counts)) Object.assign(c, { inserted: 0, updated: 0, unchanged: 0, removed: 0 })
      return finish(false)
    }
    throw err
  }

  if (opts.calendar === false || dryRun || !CALENDAR_INPUTS.some((e) => plan.rows[e].length > 0)) return finish(true)
  // Rounds, stops or subscriptions may have changed: the calendar follows at once, not at the next daily run.
  const rounds = await affectedRounds(db, plan.rows)
  const { from, to, inserted, updated, removed, ms } = await generateCalendar(db, { ...(opts.calendar ?? calendarHorizon(new Date())), rounds })
  return finish(true, { from, to, inserted, updated, removed, ms })
}

/** Rounds whose collections the imported rows can change: named in the file, or on a contract or subscription in it. */
async function affectedRounds(db: Database, rows: ValidRows): Promise<string[]> {
  const ids = new Set([...rows.rounds.map((r) => r.value.roundId), ...rows.roundStops.map((s) => s.value.roundId)])
  const contracts = rows.contracts.map((c) => c.value.contractId)
  const subscribers = [...new Set(rows.subscriptions.map((s) => s.value.uprn))]
  if (contracts.length > 0) {
    for (const r of (await db.query<{ id: string }>(`SELECT round_id AS id FROM rounds WHERE contract_id = ANY($1::text[])`, [contracts])).rows) ids.add(r.id)
  }
  if (subscribers.length > 0) {
    const { rows: found } = await db.query<{ id: string }>(
      `SELECT DISTINCT rh.round_id AS id FROM round_households rh JOIN rounds r ON r.round_id = rh.round_id WHERE r.subscription AND rh.uprn = ANY($1::bigint[])`,
      [subscribers],
    )
    for (const r of found) ids.add(r.id)
  }
  return [...ids]
}
