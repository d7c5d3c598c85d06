// `kerbside privacy`: the data protection officer's commands. export and erase work on the database
// directly and write the audit log themselves (actor "cli"), or, when a running Kerbside owns the
// embedded database, through its API (which audits as for any caller); retention runs the retention
// job's work now with the configured periods.
import { writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { parseArgs } from 'node:util'
import { retentionDays } from '../analysis/privacy/retention-job.ts'
import type { Config } from '../core/config.ts'
import { isUprn } from '../core/contract/domain.ts'
import { ERASURE_CATEGORIES, type ErasureResult, type RawReadings, type SubjectAccessExport } from '../core/contract/privacy.ts'
import type { Logger } from '../core/log.ts'
import { recordAudit } from '../storage/audit.ts'
import type { Database } from '../storage/database.ts'
import { openDatabase } from '../storage/open-database.ts'
import { EmbeddedDatabaseBusyError } from '../storage/pglite-adapter.ts'
import { eraseHousehold } from '../storage/privacy/erasure.ts'
import { applyRetention } from '../storage/privacy/retention.ts'
import { subjectAccessExport } from '../storage/privacy/subject-access.ts'
import { answer, localApi, nullWhenNotFound, type LocalApi } from './api-client.ts'
import type { ExtraCommand } from './commands.ts'

class PrivacyUsageError extends Error {
  override name = 'KERBSIDE_ERR_USAGE'
}

const USAGE = `usage: kerbside privacy export <uprn> --out <file.json> [--raw-readings recent|all|none] [--raw-days <n>]
       kerbside privacy erase <uprn> [--ref <case reference>] [--include-assisted]
       kerbside privacy retention`

const RAW: readonly RawReadings[] = ['recent', 'all', 'none']
const cliActor = () => ({ actor: 'cli', actorName: `kerbside CLI (${userInfo().username})`, role: 'admin' })

type Env = { config: Config; logger: Logger }

/** Run `direct` on the database, or `viaApi` when a running Kerbside owns the embedded database. */
async function onDatabase<T>(env: Env, direct: (db: Database) => Promise<T>, viaApi?: (api: LocalApi) => Promise<T>): Promise<T> {
  let db: Database
  try {
    db = await openDatabase({
      url: env.config.DATABASE_URL, dataDir: env.config.KERBSIDE_DATA_DIR, poolSize: env.config.DATABASE_POOL_SIZE, tierCeiling: env.config.DATABASE_TIER,
      logger: env.logger.child({ component: 'database' }, { level: 'warn' }),
    })
  } catch (err) {
    if (!(err instanceof EmbeddedDatabaseBusyError) || !viaApi) throw err
    return viaApi(localApi(env.config))
  }
  try {
    return await direct(db)
  } finally {
    await db.close()
  }
}

function uprnArg(s: string | undefined): number {
  const n = /^\d{1,12}$/.test(s ?? '') ? Number(s) : NaN
  if (!isUprn(n)) throw new PrivacyUsageError(`a UPRN (1 to 12 digits) is needed, not ${JSON.stringify(s ?? '')}\n${USAGE}`)
  return n
}

async function exportCommand(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' }, 'raw-readings': { type: 'string', default: 'recent' }, 'raw-days': { type: 'string', default: '31' } } })
  const uprn = uprnArg(positionals[0])
  const rawReadings = values['raw-readings'] as RawReadings
  const rawDays = Number(values['raw-days'])
  if (!values.out) throw new PrivacyUsageError(`--out <file.json> is required\n${USAGE}`)
  if (!RAW.includes(rawReadings)) throw new PrivacyUsageError('--raw-readings must be recent, all or none')
  if (!Number.isInteger(rawDays) || rawDays < 1 || rawDays > 3660) throw new PrivacyUsageError('--raw-days must be a whole number of days from 1 to 3660')
  const doc = await onDatabase<SubjectAccessExport | null>(env, async (db) => {
    const found = await subjectAccessExport(db, uprn, { rawReadings, rawDays, now: new Date(), timeZone: env.config.KERBSIDE_TIMEZONE, requestedBy: { actor: 'cli', role: 'admin' } })
    if (found) await recordAudit(db, { ...cliActor(), action: 'CLI privacy export', uprn, status: 200, ip: null })
    return found
  }, (api) => answer<SubjectAccessExport>(api.GET('/api/v1/households/{uprn}/subject-access', { params: { path: { uprn }, query: { rawReadings, rawDays } } }), `GET /households/${uprn}/subject-access`)
    .catch(nullWhenNotFound))
  if (!doc) {
    console.error(`kerbside privacy: no household with UPRN ${uprn}`)
    return 1
  }
  writeFileSync(values.out, `${JSON.stringify(doc, null, 2)}\n`)
  console.log(`Wrote everything held about UPRN ${uprn} to ${values.out}: ${doc.bins.items.length} bin(s), ${doc.sensorReadings.total} reading(s) (${doc.sensorReadings.raw.count} raw), `
    + `${doc.lifts.items.length} lift(s), ${doc.collections.items.length} collection(s), ${doc.missedReports.items.length} report(s), ${doc.accessLog.items.length} audit entr(ies).`)
  return 0
}

async function eraseCommand(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ref: { type: 'string' }, 'include-assisted': { type: 'boolean' } } })
  const uprn = uprnArg(positionals[0])
  const body = { requestRef: values.ref, includeAssistedCollection: values['include-assisted'] === true }
  const result = await onDatabase<ErasureResult | null>(env, async (db) => {
    const done = await eraseHousehold(db, { uprn, actor: cliActor(), ...body })
    if (done) await recordAudit(db, { ...cliActor(), action: 'CLI privacy erase', uprn, status: 200, ip: null })
    return done
  }, (api) => answer<ErasureResult>(api.POST('/api/v1/households/{uprn}/erasure', { params: { path: { uprn } }, body }), `POST /households/${uprn}/erasure`)
    .catch(nullWhenNotFound))
  if (!result) {
    console.error(`kerbside privacy: no household with UPRN ${uprn}`)
    return 1
  }
  const erased = result.record.erased
  console.log(`Erasure ${result.record.erasureId} for UPRN ${uprn}: ${ERASURE_CATEGORIES.filter((c) => c in erased).map((c) => `${c} ${erased[c]}`).join(', ')}`)
  for (const note of result.notes) console.log(`  note: ${note}`)
  return 0
}

async function retentionCommand(env: Env): Promise<number> {
  const report = await onDatabase(env, (db) => applyRetention(db, retentionDays(env.config), new Date()))
  console.log(JSON.stringify(report, null, 2))
  return 0
}

export const privacyCommand: ExtraCommand = {
  name: 'privacy',
  usage: 'privacy export|erase|retention',
  summary: 'subject-access export of a UPRN to a file, erasure on request, retention now',
  async run(args, env) {
    const [sub, ...rest] = args
    try {
      if (sub === 'export') return await exportCommand(rest, env)
      if (sub === 'erase') return await eraseCommand(rest, env)
      if (sub === 'retention') return await retentionCommand(env)
      throw new PrivacyUsageError(USAGE)
    } catch (err) {
      if (!(err instanceof PrivacyUsageError) && (err as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw err
      console.error(`kerbside privacy: ${(err as Error).message}`)
      return 1
    }
  },
}
