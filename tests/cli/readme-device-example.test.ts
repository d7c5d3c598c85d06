// The README's "Register a device and send it a reading", followed as a newcomer would on a machine
// where 1883 and 8080 are taken: `kerbside start` on other ports, then the README's own lines, read
// from README.md, with only what the README says to change (the ports in -p and in the URL, the
// device's secret, the CLI given the same HTTP_PORT), run by bash in the folder the server runs in.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { freePort } from '../helpers/crash-harness.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const BIN = join(ROOT, 'cli', 'bin.js')
let dir: string
let server: ChildProcess
let ports: { mqtt: number; ws: number; http: number }

const bash = (script: string, env: Record<string, string> = {}) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
  execFile('bash', ['-c', script], { cwd: dir, timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
    resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }))
})

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kerbside-readme-'))
  ports = { mqtt: await freePort(), ws: await freePort(), http: await freePort() }
  // `npm start` in the README's words, on other ports; its data in ./.kerbside of the folder it runs in.
  server = spawn(process.execPath, [BIN, 'start'], {
    cwd: dir, stdio: 'ignore',
    env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'error', KERBSIDE_JOBS: 'false', MQTT_PORT: String(ports.mqtt), MQTT_WS_PORT: String(ports.ws), HTTP_PORT: String(ports.http) },
  })
  for (let i = 0; i < 240; i++) {
    const ready = await fetch(`http://127.0.0.1:${ports.http}/readyz`).then((r) => r.ok, () => false)
    if (ready) return
    if (server.exitCode !== null) throw new Error(`kerbside start exited with ${server.exitCode}`)
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error('kerbside start did not become ready in 120 s')
})

afterAll(async () => {
  if (server?.exitCode === null) {
    server.kill('SIGTERM')
    await new Promise((r) => server.once('exit', r))
  }
  rmSync(dir, { recursive: true, force: true })
})

/** The README's shell block that registers sensor-1, as its lines (continuations joined). */
function readmeExample(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const block = /```sh\n(npm run kerbside -- devices add sensor-1[\s\S]*?)```/.exec(readme)?.[1]
  if (!block) throw new Error('README.md has no ```sh block starting "npm run kerbside -- devices add sensor-1"')
  return block.replace(/\\\n\s*/g, '').split('\n').filter((l) => l.trim() !== '')
}

test('the README\'s device example, on other ports, stores the reading and reads it back', async () => {
  const lines = readmeExample()
  expect(lines).toHaveLength(3)
  const [register, publish, read] = lines as [string, string, string]
  expect(register).toMatch(/^npm run kerbside -- devices add sensor-1 --kind bin/)
  expect(publish).toMatch(/^mosquitto_pub -h localhost -p 1883 /)
  expect(read).toMatch(/^curl .*http:\/\/localhost:8080\//)

  // "with npm start on another HTTP_PORT, give the CLI the same HTTP_PORT" (npm run kerbside = node cli/bin.js)
  const added = await bash(register.replace('npm run kerbside --', `'${process.execPath}' '${BIN}'`), { HTTP_PORT: String(ports.http), LOG_LEVEL: 'error' })
  expect(added.stderr).toBe('')
  const { secret } = JSON.parse(added.stdout) as { secret: string }

  // "for other ports, put yours in -p and in the URL"
  const mosquittoPub = await bash('command -v mosquitto_pub')
  const published = await bash((mosquittoPub.code === 0 ? publish : publish.replace(/^mosquitto_pub/, 'npx mqtt pub'))
    .replace('<secret>', secret).replace('-p 1883', `-p ${ports.mqtt}`))
  expect(published.stderr).toBe('')
  expect(published.code).toBe(0)

  const answer = await bash(read.replace('localhost:8080', `localhost:${ports.http}`))
  expect(answer.code).toBe(0)
  const readings = JSON.parse(answer.stdout) as unknown
  expect(JSON.stringify(readings)).toContain('"fillPct":42')
})
