// `kerbside demo` with LoRaWAN bins: a share of the city's bins get LoRaWAN sensors registered by
// DevEUI, and the LoRaWAN simulator posts their uplinks to the demo's own webhooks as The Things
// Stack and as ChirpStack, with the secrets the demo configured. Checked from outside, through the
// API, as a user would see them: the sensors heard through both network servers, their bins filled
// on the map and in the household record, their readings in the device history.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { simDevEui } from '../../simulators/lorawan/simulate.ts'
import { freePort } from '../helpers/crash-harness.ts'

let child: ChildProcess | undefined
let dir = ''
let base = ''
let out = ''
let key = ''

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } })
  expect(res.status, `GET ${path}`).toBe(200)
  return await res.json() as T
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kerbside-demo-lorawan-'))
  const [mqtt, ws, http] = [await freePort(), await freePort(), await freePort()]
  // The demo makes its own webhook secrets unless the environment sets them: here it must.
  const env: NodeJS.ProcessEnv = { ...process.env, MQTT_PORT: String(mqtt), MQTT_WS_PORT: String(ws), HTTP_PORT: String(http), LOG_LEVEL: 'error' }
  delete env.LORAWAN_TTN_SECRET
  delete env.LORAWAN_CHIRPSTACK_SECRET
  child = spawn(process.execPath, ['cli/bin.js', 'demo', '--data-dir', dir, '--households', '60'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr!.on('data', (b: Buffer) => { out += b.toString() })
  await new Promise<void>((resolve, reject) => {
    child!.stdout!.on('data', () => { if (out.includes('Dashboard populated')) resolve() })
    child!.once('exit', (code) => reject(new Error(`the demo exited (${code}) before it was ready:\n${out}`)))
  })
  base = `http://127.0.0.1:${http}`
  key = (JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as { adminKey: string }).adminKey
}, 600_000)

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGINT')
    await new Promise((r) => child!.once('exit', r))
  }
  if (dir) rmSync(dir, { recursive: true, force: true })
}, 60_000)

test('LoRaWAN bins in the demo: heard through both network servers, filled on the map, in the household record and the device history', async () => {
  const line = /LoRaWAN +(\d+) bins with LoRaWAN sensors \(milesight-em310-udl, dragino-ldds75\) send every 10 minutes through simulated The Things Stack \((\d+)\) and ChirpStack \((\d+)\) webhooks/.exec(out)
  expect(line, out).not.toBeNull()
  const sensors = Number(line![1])
  expect(sensors).toBeGreaterThan(0)
  expect(Number(line![2]) + Number(line![3])).toBe(sensors)
  expect(out).not.toMatch(/LoRaWAN (round failed|sensors did not start)/)

  // Sensor 0 is behind The Things Stack, sensor 1 behind ChirpStack: each heard, with the last hours' uplinks stored.
  type Device = { deviceId: string; binId: string; model: string; lastUplinkAt: string | null; lastFCnt: number | null }
  const devices = [await get<Device>(`/api/v1/lorawan/devices/${simDevEui(0)}`), await get<Device>(`/api/v1/lorawan/devices/${simDevEui(1)}`)]
  expect(devices.map((d) => d.model)).toEqual(['milesight-em310-udl', 'dragino-ldds75'])
  const now = Date.now()
  for (const d of devices) {
    expect(d.lastUplinkAt).not.toBeNull()
    expect(now - Date.parse(d.lastUplinkAt!)).toBeLessThan(15 * 60_000)
    const readings = await get<{ seq: number; fillPct: number; binId: string }[]>(`/api/v1/devices/${d.deviceId}/readings?from=${new Date(now - 4 * 3600_000).toISOString()}&to=${new Date(now + 3600_000).toISOString()}`)
    expect(readings.length).toBeGreaterThanOrEqual(7) // three hours, every half hour
    expect(new Set(readings.map((r) => r.seq)).size).toBe(readings.length)
    expect(readings.every((r) => r.binId === d.binId && r.fillPct >= 0 && r.fillPct <= 100)).toBe(true)
  }

  // Every LoRaWAN bin has a fill on the map.
  const map = await get<{ bins: { binId: string[]; deviceId: (string | null)[]; fillPct: (number | null)[] } }>('/api/v1/map')
  const lorawan = map.bins.deviceId.map((d, k) => (d?.startsWith('lw-') ? k : -1)).filter((k) => k >= 0)
  expect(lorawan).toHaveLength(sensors)
  expect(lorawan.every((k) => typeof map.bins.fillPct[k] === 'number')).toBe(true)

  // The household of the first one shows its bin's sensor and fill, as for an MQTT sensor.
  const uprn = /^bin-(\d+)-/.exec(devices[0]!.binId)![1]
  const household = await get<{ bins: { binId: string; sensor: { deviceId: string; fillPct: number | null } | null }[] }>(`/api/v1/households/${uprn}`)
  const bin = household.bins.find((b) => b.binId === devices[0]!.binId)
  expect(bin?.sensor).toMatchObject({ deviceId: devices[0]!.deviceId, fillPct: expect.any(Number) })

  // The webhooks are not open: the demo configured a secret for each network server.
  const res = await fetch(`${base}/api/v1/lorawan/ttn`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  expect(res.status).toBe(401)
}, 120_000)
