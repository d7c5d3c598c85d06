// npm run sim:load -- --rate 2000 --connections 200 --duration 60 --url mqtt://127.0.0.1:1883 …
//
// Devices: either provisioned here through the API (--api URL --key KEY, a key with role admin or
// provisioning; each device gets its own secret), or already provisioned with one shared secret
// (--secret S, devices named --prefix + 00001, 00002, …).
import { parseArgs } from 'node:util'
import type { DeviceKind } from '../core/contract/topics.ts'
import { runLoad, type LoadDevice } from './load-generator.ts'

const USAGE = `Usage: npm run sim:load -- --url mqtt://HOST:PORT --rate N --connections N (--duration S | --messages N)
                              (--api http://HOST:PORT --key KEY | --secret SECRET) [--prefix load-] [--kind bin|vehicle] [--binary] [--json]`

class UsageError extends Error {
  override name = 'KERBSIDE_ERR_USAGE'
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Register the devices through the API; each answer carries the device's secret, shown once. */
async function provision(api: string, key: string, ids: string[], kind: DeviceKind): Promise<LoadDevice[]> {
  const out: LoadDevice[] = []
  for (const deviceId of ids) {
    for (;;) {
      const res = await fetch(`${api.replace(/\/$/, '')}/api/v1/devices`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ deviceId, kind }),
      })
      if (res.status === 429) { await sleep(1000 * (Number(res.headers.get('retry-after')) || 5)); continue }
      const body = (await res.json()) as { secret?: string; message?: string }
      if (res.status !== 201 || !body.secret) throw new Error(`provisioning ${deviceId} failed: HTTP ${res.status} ${body.message ?? ''}`)
      out.push({ deviceId, secret: body.secret, kind })
      break
    }
  }
  return out
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' }, rate: { type: 'string' }, connections: { type: 'string' }, duration: { type: 'string' }, messages: { type: 'string' },
      api: { type: 'string' }, key: { type: 'string' }, secret: { type: 'string' }, prefix: { type: 'string' }, kind: { type: 'string' },
      binary: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' },
    },
  })
  if (values.help) { console.log(USAGE); return 0 }
  const rate = Number(values.rate ?? 1000)
  const connections = Number(values.connections ?? 100)
  const kind = (values.kind ?? 'bin') as DeviceKind
  if (!values.url) throw new UsageError('--url is required')
  if (!(rate > 0) || !Number.isInteger(connections) || connections < 1) throw new UsageError('--rate must be positive and --connections a positive whole number')
  if (kind !== 'bin' && kind !== 'vehicle') throw new UsageError('--kind must be bin or vehicle')
  if (values.duration === undefined && values.messages === undefined) throw new UsageError('give --duration (seconds) or --messages')
  // Fresh device ids per run when provisioning, so that a second run never meets an old sequence.
  const prefix = values.prefix ?? (values.api ? `load-${Date.now().toString(36)}-` : 'load-')
  const ids = Array.from({ length: connections }, (_, i) => `${prefix}${String(i + 1).padStart(5, '0')}`)

  let devices: LoadDevice[]
  if (values.api) {
    if (!values.key) throw new UsageError('--api needs --key (an API key with role admin or provisioning)')
    console.log(`provisioning ${connections} ${kind} devices through ${values.api} …`)
    devices = await provision(values.api, values.key, ids, kind)
  } else if (values.secret) {
    devices = ids.map((deviceId) => ({ deviceId, secret: values.secret!, kind }))
  } else throw new UsageError('give --api and --key to provision devices, or --secret for devices already provisioned')

  const report = await runLoad({
    url: values.url, devices, rate,
    durationS: values.duration !== undefined ? Number(values.duration) : undefined,
    messages: values.messages !== undefined ? Number(values.messages) : undefined,
    binary: values.binary ?? false,
    onProgress: (p) => { if (!values.json) console.log(`${(p.elapsedMs / 1000).toFixed(0)} s: ${p.sent.toLocaleString('en-GB')} sent, ${p.acked.toLocaleString('en-GB')} acknowledged`) },
  })
  const { wasAcked: _w, acknowledged: _a, seqRange: _s, ...summary } = report
  if (values.json) console.log(JSON.stringify(summary, null, 2))
  else {
    const l = report.latencyMs
    console.log(`connections ${report.connections} (${report.refused.length} refused${report.refused[0] ? `: ${report.refused[0].reason}` : ''}), connected in ${report.connectMs} ms`)
    console.log(`sent ${report.sent.toLocaleString('en-GB')} of ${report.planned.toLocaleString('en-GB')} at ${report.achievedRate.toLocaleString('en-GB')} msg/s (target ${rate.toLocaleString('en-GB')}), acknowledged ${report.acked.toLocaleString('en-GB')} (${report.ackedRate.toLocaleString('en-GB')} msg/s)`)
    console.log(`publish → PUBACK latency ms: p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  p99.9 ${l.p999}  max ${l.max}`)
  }
  return report.acked === report.planned ? 0 : 1
}

main().then((code) => { process.exitCode = code }, (err: unknown) => {
  console.error(`sim:load: ${(err as Error).message}`)
  if (err instanceof UsageError) console.error(USAGE)
  process.exitCode = 2
})
