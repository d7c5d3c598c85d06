// `kerbside privacy` as a council's data protection officer runs it: the real command in a child
// process, on an embedded database in a temporary folder. Export to a file, erase, export again;
// each run recorded in the audit log.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { SubjectAccessExport } from '../../core/contract/privacy.ts'
import { silentLogger } from '../../core/log.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { createReport } from '../../storage/reports.ts'
import { seedMinimalRegistry } from '../helpers/stack.ts'

const BIN = join(import.meta.dirname, '..', '..', 'cli', 'bin.js')
const UPRN = 100000000001
let dir: string

function kerbside(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, KERBSIDE_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn', DATABASE_URL: '' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

const withDb = async <T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> => {
  const db = await openDatabase({ logger: silentLogger, dataDir: join(dir, 'data') })
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kerbside-privacy-cli-'))
  await withDb(async (db) => {
    await seedMinimalRegistry(db)
    await createReport(db, {
      serviceCode: 'missed_residual', stream: 'residual', uprn: UPRN, locatedBy: 'uprn', source: 'test', description: 'Left by the gate',
      contact: { firstName: 'Philippa', lastName: 'Quartermaine', email: 'pq.reporter@example.org', phone: '07700 900461' },
    })
    await db.query(`INSERT INTO bin_readings (ts, device_id, seq, bin_id, uprn, fill_pct) VALUES (now() - interval '2 hours', 's-1', 1, 'bin-1', $1, 40), (now() - interval '60 days', 's-1', 0, 'bin-1', $1, 30)`, [UPRN])
  })
}, 60_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('export to a file, erase, export again: the second file holds no personal data; both runs are audited', async () => {
  const first = join(dir, 'first.json')
  const exported = await kerbside('privacy', 'export', String(UPRN), '--out', first)
  expect(exported.stderr).toBe('')
  expect(exported.code).toBe(0)
  expect(exported.stdout).toContain(`Wrote everything held about UPRN ${UPRN} to ${first}: 1 bin(s), 2 reading(s) (1 raw)`)
  const doc = JSON.parse(readFileSync(first, 'utf8')) as SubjectAccessExport
  expect(doc.about).toMatchObject({ uprn: UPRN, generatedBy: { actor: 'cli', role: 'admin' } })
  expect(doc.missedReports.items[0]!.contact).toMatchObject({ email: 'pq.reporter@example.org' })

  const erased = await kerbside('privacy', 'erase', String(UPRN), '--ref', 'DSR-2026-7')
  expect(erased.code).toBe(0)
  expect(erased.stdout).toMatch(/^Erasure 1 for UPRN 100000000001: reportContacts 1, reportFreeText 1, crmReference 0, crmEventReferences 0/)

  const second = join(dir, 'second.json')
  expect((await kerbside('privacy', 'export', String(UPRN), '--out', second, '--raw-readings', 'all')).code).toBe(0)
  const text = readFileSync(second, 'utf8')
  for (const value of ['Philippa', 'Quartermaine', 'pq.reporter@example.org', '07700 900461', 'Left by the gate']) expect(text).not.toContain(value)
  expect((JSON.parse(text) as SubjectAccessExport).sensorReadings.raw.count).toBe(2)

  const audit = await withDb(async (db) => (await db.query<{ actor: string; action: string }>(`SELECT actor, action FROM audit_log WHERE uprn = $1 ORDER BY id`, [UPRN])).rows)
  expect(audit).toEqual([
    { actor: 'cli', action: 'CLI privacy export' }, { actor: 'cli', action: 'CLI privacy erase' }, { actor: 'cli', action: 'CLI privacy export' },
  ])
}, 120_000)

test('usage mistakes and unknown households: one line on stderr, exit code 1', async () => {
  const unknown = await kerbside('privacy', 'export', '999999999999', '--out', join(dir, 'none.json'))
  expect([unknown.code, unknown.stderr.trim()]).toEqual([1, 'kerbside privacy: no household with UPRN 999999999999'])
  const noOut = await kerbside('privacy', 'export', String(UPRN))
  expect(noOut.code).toBe(1)
  expect(noOut.stderr).toContain('--out <file.json> is required')
  expect((await kerbside('privacy', 'export', 'abc', '--out', 'x.json')).stderr).toContain('a UPRN (1 to 12 digits) is needed')
  expect((await kerbside('privacy', 'shred')).code).toBe(1)
}, 120_000)
