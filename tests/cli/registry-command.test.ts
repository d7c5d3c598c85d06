// `kerbside import` and `kerbside export` as a council's IT team runs them: the real command in a
// child process, on an embedded database in a temporary folder.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { smallCity } from '../storage/registry/fixture.ts'

const BIN = join(import.meta.dirname, '..', '..', 'cli', 'bin.js')
let dir: string

function kerbside(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, KERBSIDE_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn', DATABASE_URL: '' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kerbside-cli-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('an invalid folder of CSV files: exit code 1, every error with its row and line, nothing imported', async () => {
  const bad = join(dir, 'bad')
  mkdirSync(bad)
  writeFileSync(join(bad, 'households.csv'), 'uprn,address\n100000000001,One\n0,Zero\nABC,Text\n')
  writeFileSync(join(bad, 'bins.csv'), 'binId,uprn,stream,rfidTag\nb1,100000000001,residual,T1\nb2,100000000001,recycling,T1\nb3,555,food,\n')
  writeFileSync(join(bad, 'roundStops.csv'), 'roundId,uprn\nr1,100000000001\n')
  const run = await kerbside('import', bad)
  expect(run.code).toBe(1)
  expect(run.stdout).toContain('The registry was NOT imported: 5 error(s). Nothing was written.')
  // In plain words (cli/import-messages.ts), with the value given.
  expect(run.stdout).toContain('households row 2 (line 3), uprn: not a UPRN (a whole number of up to 12 digits) (got 0)')
  expect(run.stdout).toContain('households row 3 (line 4), uprn: not a UPRN (a whole number of up to 12 digits) (got "ABC")')
  expect(run.stdout).toContain('bins row 2 (line 3), rfidTag: RFID tag T1 is also given to bin b1 (row 1)')
  expect(run.stdout).toContain('bins row 3 (line 4), uprn: no household with UPRN 555 in the file or in the registry')
  expect(run.stdout).toContain('roundStops, position: column position missing')
  expect(run.stdout).toContain('Every column, with examples: docs/import-columns.md')
}, 90_000)

test('import JSON with progress, export CSV, re-import the CSV folder: nothing changes', async () => {
  const file = join(dir, 'city.json')
  writeFileSync(file, JSON.stringify(smallCity()))
  const first = await kerbside('import', file, '--report', join(dir, 'report.json'))
  expect(first.stderr).toBe('')
  expect(first.code).toBe(0)
  expect(first.stdout).toMatch(/households\s+6 \/ 6 \(100%\)/)
  expect(first.stdout).toMatch(/bins\s+12 new, 0 changed, 0 unchanged/)
  expect(first.stdout).toContain('Collection calendar')
  expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))).toMatchObject({ ok: true })

  const out = join(dir, 'export')
  const exported = await kerbside('export', '--format', 'csv', '--out', out)
  expect(exported.code).toBe(0)
  expect(readFileSync(join(out, 'roundStops.csv'), 'utf8').split('\n')[0]).toBe('roundId,uprn,position')

  const dry = await kerbside('import', out, '--dry-run')
  expect(dry.code).toBe(0)
  expect(dry.stdout).toContain('Dry run: the registry is valid; nothing was kept.')
  expect(dry.stdout).toMatch(/bins\s+0 new, 0 changed, 12 unchanged/)

  const json = join(dir, 'registry.json')
  expect((await kerbside('export', '--format', 'json', '--out', json)).code).toBe(0)
  expect(JSON.parse(readFileSync(json, 'utf8')).households).toHaveLength(6)
}, 180_000)

test('usage errors say what to do', async () => {
  const run = await kerbside('import', join(dir, 'nothing-here.json'))
  expect(run.code).toBe(1)
  expect(run.stderr.trim()).toBe(`kerbside import: ${join(dir, 'nothing-here.json')} does not exist`)
  const flag = await kerbside('export', '--format', 'xml', '--out', join(dir, 'x'))
  expect(flag.code).toBe(1)
  expect(flag.stderr.trim()).toBe('kerbside export: --format must be json or csv')
}, 90_000)
