// What to do next, printed once Kerbside is up: where the dashboard is, how to sign in, where the
// admin key is, and device and API examples with the ports really in use, ready to copy and paste.
// The examples are built from the running stack, not from defaults, so that MQTT_PORT=1884 gives
// `-p 1884` and HTTP_PORT=8090 gives :8090.
import { relative } from 'node:path'
import type { Context, Stack } from './stack.ts'

export interface BannerOptions {
  mode: 'start' | 'demo'
  ctx: Context
  stack: Pick<Stack, 'api' | 'broker'>
  /** The demo's ready sign-in; for start, the number of users there are. */
  signIn: { username: string; password: string | null; dataDir: string } | { users: number }
  extra?: string[]
}

const DEFAULT_HTTP_PORT = 8080

/** The lines of the banner (printBanner prints them); exported for tests. */
export function bannerLines(o: BannerOptions): string[] {
  const api = new URL(o.stack.api.url)
  const scheme = api.protocol.replace(':', '')
  const httpPort = Number(api.port)
  const base = `${scheme}://localhost:${httpPort}`
  const mqttPort = o.stack.broker.listening.tcpPort
  const wsPort = o.stack.broker.listening.wsPort
  const secretsFile = relativePath(o.ctx.secrets.file)
  // The CLI finds a running demo by itself; for start, it needs the port and folder when they are not the defaults.
  const envPrefix = o.mode === 'start'
    ? [httpPort !== DEFAULT_HTTP_PORT ? `HTTP_PORT=${httpPort}` : '', process.env.KERBSIDE_DATA_DIR ? `KERBSIDE_DATA_DIR=${process.env.KERBSIDE_DATA_DIR}` : ''].filter(Boolean).join(' ')
    : ''
  const cli = `${envPrefix ? `${envPrefix} ` : ''}npm run kerbside --`
  const lines = ['', `  Dashboard     ${base}/`]
  if ('username' in o.signIn) {
    lines.push(`  Sign in       user ${o.signIn.username}, password ${o.signIn.password ?? `(the one printed when this demo folder was made; --reset for a new one)`}`)
  } else if (o.signIn.users === 0) {
    lines.push(`  Sign in       no users yet: create the first with   ${cli} users add admin --role admin   (prints its password)`)
  } else {
    lines.push(`  Sign in       ${o.signIn.users} user${o.signIn.users === 1 ? '' : 's'}; add one with   ${cli} users add <name> --role contract_manager`)
  }
  lines.push(
    `  API docs      ${base}/docs`,
    `  Admin key     adminKey in ${secretsFile} (for curl and scripts; the CLI reads it itself)`,
    `  MQTT          mqtt://localhost:${mqttPort}${wsPort ? `, WebSocket ws://localhost:${wsPort}/mqtt` : ''}`,
    ...(o.extra ?? []).map((l) => `  ${l}`),
    '',
    'Send a reading as a device, and read it back (copy and paste):',
    `  ${cli} devices add my-sensor --kind bin          # prints the device's secret, once`,
    `  mosquitto_pub -h localhost -p ${mqttPort} -i my-sensor -u my-sensor -P '<secret>' -q 1 \\`,
    `    -t kerbside/v1/bins/my-sensor/reading -m "{\\"seq\\":1,\\"ts\\":\\"$(date -u +%FT%TZ)\\",\\"fillPct\\":42}"`,
    `  curl -H "Authorization: Bearer $(node -p "require('${secretsFile}').adminKey")" \\`,
    `    "${base}/api/v1/devices/my-sensor/readings?from=$(date -u -d '-1 day' +%FT%TZ)&to=$(date -u -d '+1 hour' +%FT%TZ)"`,
    `  (no mosquitto_pub? npx mqtt pub takes the same options)`,
    '',
  )
  return lines
}

export function printBanner(o: BannerOptions): void {
  console.log(bannerLines(o).join('\n'))
}

/** './.kerbside/secrets.json' rather than an absolute path: shorter, and what require() in the example needs. */
function relativePath(file: string): string {
  const rel = relative(process.cwd(), file)
  return rel.startsWith('..') || rel.startsWith('/') ? file : `./${rel}`
}
