// MQTT over TLS (MQTT_TLS_CERT/MQTT_TLS_KEY on MQTTS_PORT) and HTTPS for the API (HTTP_TLS_CERT/
// HTTP_TLS_KEY), with a certificate made by openssl when the test runs. A device that trusts the
// certificate logs in and its reading is stored; a wrong or missing credential over TLS is refused;
// a client that does not trust the certificate, or speaks plain MQTT/HTTP to a TLS port, gets nothing.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { count, provision, seedMinimalRegistry, startTestStack, waitFor, type TestStack } from '../helpers/stack.ts'

let t: TestStack
let dir: string
let ca: Buffer
let secret: string
let mqttsPort: number

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kerbside-tls-'))
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
  ca = readFileSync(join(dir, 'cert.pem'))
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }
  t = await startTestStack({ MQTT_TLS_CERT: files.cert, MQTT_TLS_KEY: files.key, MQTTS_PORT: 0, HTTP_TLS_CERT: files.cert, HTTP_TLS_KEY: files.key })
  mqttsPort = t.stack.broker.listening.tlsPort!
  await seedMinimalRegistry(t.db)
  secret = await provision(t.db, 'sensor-tls', 'bin', { binId: 'bin-1' })
})
afterAll(async () => {
  await t?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Connect over TLS; resolves 'connected', the CONNACK refusal code, or the TLS/socket error. */
function mqtts(opts: mqtt.IClientOptions): Promise<{ client?: mqtt.MqttClient; refused?: number; error?: string }> {
  return new Promise((resolve) => {
    const client = mqtt.connect({ protocol: 'mqtts', host: '127.0.0.1', port: mqttsPort, reconnectPeriod: 0, connectTimeout: 5000, ...opts })
    client.once('connect', () => resolve({ client }))
    client.once('error', (err) => { client.end(true); resolve((err as { code?: unknown }).code !== undefined && typeof (err as { code?: unknown }).code === 'number' ? { refused: (err as unknown as { code: number }).code } : { error: err.message }) })
    client.once('close', () => resolve({ error: 'closed before CONNACK' }))
  })
}

function httpsGet(path: string, opts: { ca?: Buffer; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(path, t.httpUrl)
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: url.port, path: url.pathname + url.search, servername: 'localhost', ca: opts.ca, headers: opts.headers }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
  })
}

describe('MQTT over TLS', () => {
  test('a device that trusts the certificate logs in over TLS and its reading is stored', async () => {
    const r = await mqtts({ ca, servername: 'localhost', clientId: 'sensor-tls', username: 'sensor-tls', password: secret })
    expect(r.error).toBeUndefined()
    await r.client!.publishAsync('kerbside/v1/bins/sensor-tls/reading', JSON.stringify({ seq: 1, ts: new Date().toISOString(), fillPct: 61 }), { qos: 1 })
    await waitFor(async () => (await count(t.db, `SELECT 1 FROM bin_readings WHERE device_id = 'sensor-tls'`)) === 1, 10_000, 'reading over TLS stored')
    await r.client!.endAsync()
    expect(await t.ctx.registry.getSingleMetricAsString('kerbside_broker_connections_total')).toMatch(/transport="tls"} [1-9]/)
  })

  test('a wrong or missing credential over TLS is refused', async () => {
    expect((await mqtts({ ca, servername: 'localhost', clientId: 'sensor-tls', username: 'sensor-tls', password: `${secret}x` })).refused).toBe(4)
    expect((await mqtts({ ca, servername: 'localhost', clientId: 'sensor-tls', username: 'sensor-tls' })).refused).toBe(4)
    expect((await mqtts({ ca, servername: 'localhost', clientId: 'sensor-tls' })).refused).toBe(4)
    expect((await mqtts({ ca, servername: 'localhost', clientId: 'sensor-tls', username: 'kerbside-ingest', password: secret })).refused).toBe(4)
  })

  test('a client that does not trust the certificate does not connect; plain MQTT on the TLS port gets no CONNACK', async () => {
    const untrusting = await mqtts({ servername: 'localhost', clientId: 'sensor-tls', username: 'sensor-tls', password: secret })
    expect(untrusting.error).toMatch(/self[- ]signed|certificate/i)
    const plain = await new Promise<Buffer>((resolve) => {
      const s = net.connect(mqttsPort, '127.0.0.1', () => s.write(Buffer.from([0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 30, 0, 0])))
      const got: Buffer[] = []
      s.on('data', (d) => got.push(d))
      s.on('error', () => undefined)
      s.on('close', () => resolve(Buffer.concat(got)))
      setTimeout(() => s.destroy(), 3000)
    })
    expect(plain.includes(Buffer.from([0x20, 0x02]))).toBe(false) // no CONNACK
  })
})

describe('HTTPS for the API', () => {
  test('served over TLS with HSTS; credentials checked as over HTTP', async () => {
    expect(t.httpUrl).toMatch(/^https:\/\//)
    const health = await httpsGet('/healthz', { ca })
    expect(health.status).toBe(200)
    expect(health.headers['strict-transport-security']).toMatch(/max-age=\d+/)
    expect((await httpsGet('/api/v1/devices', { ca })).status).toBe(401)
    expect((await httpsGet('/api/v1/devices', { ca, headers: { authorization: `Bearer ks_${'a'.repeat(12)}_${'b'.repeat(43)}` } })).status).toBe(401)
    expect((await httpsGet('/api/v1/devices', { ca, headers: { authorization: `Bearer ${t.adminKey}` } })).status).toBe(200)
  })

  test('a client that does not trust the certificate is refused; plain HTTP to the TLS port gets no answer', async () => {
    await expect(httpsGet('/healthz')).rejects.toThrow(/self[- ]signed|certificate/i)
    const port = Number(new URL(t.httpUrl).port)
    const answer = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n'))
      let got = ''
      s.on('data', (d) => { got += d.toString('latin1') })
      s.on('error', () => undefined)
      s.on('close', () => resolve(got))
      setTimeout(() => s.destroy(), 3000)
    })
    expect(answer).not.toContain('"status":"ok"')
  })
})
