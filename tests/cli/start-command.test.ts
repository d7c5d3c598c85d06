// `kerbside start` when a port it needs is held by another program (Mosquitto on 1883 is the usual
// case): one line that names the port, the likely culprit and the setting that moves Kerbside off it.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'

const BIN = join(import.meta.dirname, '..', '..', 'cli', 'bin.js')
let dir: string
let holder: Server

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kerbside-start-'))
  holder = createServer()
  await new Promise<void>((resolve) => holder.listen(0, '0.0.0.0', () => resolve()))
})
afterAll(() => {
  holder.close()
  rmSync(dir, { recursive: true, force: true })
})

test('a port in use: exit code 1 and a message that says which setting to change', async () => {
  const port = (holder.address() as AddressInfo).port
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, 'start'], {
      cwd: dir, timeout: 120_000,
      env: { ...process.env, KERBSIDE_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'error', DATABASE_URL: '', MQTT_PORT: String(port), MQTT_WS_PORT: '0', HTTP_PORT: '0', KERBSIDE_JOBS: 'false' },
    }, (err, _stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }))
  })
  expect(code).toBe(1)
  expect(stderr).toContain(`kerbside: port ${port} is already in use by another program`)
  expect(stderr).toContain(`MQTT_PORT=${port + 1} npm start`)
  expect(stderr).not.toContain('    at ') // no stack trace
  // Said before anything slow: no database was made (regression: it came after 24 migrations).
  expect(existsSync(join(dir, 'data', 'pgdata'))).toBe(false)
})

test('npm start\'s preflight (prestart) says the same, before the dashboard build', async () => {
  const port = (holder.address() as AddressInfo).port
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, [join(import.meta.dirname, '..', '..', 'cli', 'preflight.js'), 'start'], {
      cwd: dir, timeout: 60_000, env: { ...process.env, MQTT_PORT: String(port), MQTT_WS_PORT: '0', HTTP_PORT: '0' },
    }, (err, _stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }))
  })
  expect(code).toBe(1)
  expect(stderr).toContain(`kerbside: port ${port} is already in use by another program; Kerbside wants it for MQTT (MQTT_PORT)`)
  expect(stderr).toContain(`MQTT_PORT=${port + 1} npm start`)
})
