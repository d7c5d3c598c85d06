// The CLI's help for one command, and a mistyped option: a few lines that say what to type, never a
// stack trace (`kerbside devices add --help` printed Node's ERR_PARSE_ARGS_UNKNOWN_OPTION with its stack).
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { expect, test } from 'vitest'

const BIN = join(import.meta.dirname, '..', '..', 'cli', 'bin.js')

function kerbside(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000, env: { ...process.env, LOG_LEVEL: 'error' } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }))
  })
}

test('--help after a command prints that command\'s usage lines', async () => {
  const r = await kerbside('devices', 'add', '--help')
  expect(r.code).toBe(0)
  expect(r.stdout).toContain('devices add <id> --kind bin|vehicle')
  expect(r.stdout).toContain('devices revoke <id>')
  expect(r.stdout).not.toContain('keys create') // another command's
  const imp = await kerbside('import', '-h')
  expect(imp.stdout).toContain('import <path> [--dry-run]')
  expect(imp.stdout).toContain('a folder of CSV files') // its continuation line
})

test('an unknown option is named, with where to look, and no stack trace', async () => {
  const r = await kerbside('devices', 'add', 'sensor-9', '--kin', 'bin')
  expect(r.code).toBe(1)
  expect(r.stderr.trim()).toBe("kerbside: Unknown option '--kin'; see kerbside devices --help")
})
