// Ports checked before anything slow (the dashboard build, migrations), so that a port another
// program holds is reported within seconds, with the setting that moves Kerbside off it. Used by the
// npm prestart/predemo scripts (cli/preflight.js) and by `kerbside start` itself.
import { createServer } from 'node:net'
import type { Config } from '../core/config.ts'

export interface PortUse { setting: 'MQTT_PORT' | 'MQTT_WS_PORT' | 'MQTTS_PORT' | 'HTTP_PORT'; host: string; port: number; what: string }

/** The ports a one-process Kerbside listens on, by the setting that chooses each. */
export function portsOf(config: Config): PortUse[] {
  const ports: PortUse[] = [
    { setting: 'MQTT_PORT', host: config.MQTT_HOST, port: config.MQTT_PORT, what: 'MQTT' },
    { setting: 'MQTT_WS_PORT', host: config.MQTT_HOST, port: config.MQTT_WS_PORT, what: 'MQTT over WebSocket' },
    { setting: 'HTTP_PORT', host: config.HTTP_HOST, port: config.HTTP_PORT, what: 'dashboard and API' },
  ]
  if (config.MQTT_TLS_CERT) ports.push({ setting: 'MQTTS_PORT', host: config.MQTT_HOST, port: config.MQTTS_PORT, what: 'MQTT over TLS' })
  return ports.filter((p) => p.port !== 0)
}

/** Whether something else listens there: try to listen, and let go at once. */
export function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(true) : reject(err)))
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(false)))
  })
}

/** The ports that are taken, each with the sentence that says what to do. */
export async function takenPorts(config: Config): Promise<{ use: PortUse; message: string }[]> {
  const out: { use: PortUse; message: string }[] = []
  for (const use of portsOf(config)) {
    if (!(await portTaken(use.host, use.port))) continue
    const who = use.port === 1883 ? ' (another MQTT broker, such as Mosquitto?)' : ''
    out.push({ use, message: `port ${use.port} is already in use by another program${who}; Kerbside wants it for ${use.what} (${use.setting}). Stop that program, or give Kerbside another port: ${use.setting}=${suggest(use.port)} npm start` })
  }
  return out
}

/** A nearby port to suggest: 1883 → 1884, 8080 → 8090. */
const suggest = (port: number) => (port === 8080 ? 8090 : port === 8083 ? 8084 : port + 1)
