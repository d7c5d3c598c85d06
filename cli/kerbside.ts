// The `kerbside` command: runs the services (all in one, or each alone) and wraps provisioning.
// This is the only place that reads the environment, owns the logger, listens and shuts down.
import { parseArgs } from 'node:util'
import closeWithGrace from 'close-with-grace'
import { ConfigError, loadConfig, type Config } from '../core/config.ts'
import { createLogger, type Logger } from '../core/log.ts'
import { DEVICE_KINDS, type DeviceKind } from '../core/contract/topics.ts'
import { MigrationError } from '../storage/migrate.ts'
import { listDevices, provisionDevice, revokeDevice, type DeviceRecord } from '../storage/devices.ts'
import { createApiKey, listApiKeys, revokeApiKey, ROLES, updateApiKeySettings, type ApiKeyInfo, type ApiKeySettings, type Role } from '../storage/api-keys.ts'
import type { Database } from '../storage/database.ts'
import { createUser, disableUser, listUsers, type UserInfo } from '../storage/users.ts'
import type { DestinationStream } from 'pino'
import { EmbeddedDatabaseBusyError } from '../storage/pglite-adapter.ts'
import { answer, ApiClientError, falseWhenNotFound, localApi, nullWhenNotFound, type LocalApi } from './api-client.ts'
import { createContext, openConfiguredDatabase, startAll, startApi, startBroker, startIngest, type Context, type Stack } from './stack.ts'
import { takenPorts } from './port-check.ts'
import { locateDataDir } from './demo-locate.ts'
import { printBanner } from './start-banner.ts'
import { extraCommands } from './commands.ts'

/** One command of the help: its summary in the second column, or on the next line when the usage is too long for the first. */
function helpLine(usage: string, summary: string): string {
  return usage.length < 24 ? `  ${usage.padEnd(24)}${summary}` : `  ${usage}\n  ${' '.repeat(24)}${summary}`
}

const HELP = `kerbside — smart-bin telemetry and refuse-service monitoring

Usage: kerbside <command> [options]

Services
  start                   broker, ingest, API, jobs and dashboard in one process (embedded database by default)
  broker                  the MQTT broker alone
  ingest                  ingest alone (MQTT_URL: the broker to consume from)
  api                     the API, live feed, jobs and dashboard alone
  migrate                 run database migrations and exit

Data and tools
${extraCommands.map((c) => helpLine(c.usage, c.summary)).join('\n')}

Provisioning
  devices add <id> --kind bin|vehicle [--bin <binId>] [--vehicle <vehicleId>]
  devices list [--kind bin|vehicle]
  devices revoke <id>
  keys create <name> --role ${ROLES.join('|')} [--open311-extended on|off]
  keys list
  keys set <keyId> --open311-extended on|off   (FixMyStreet's additional attributes in Open311 answers)
  keys revoke <keyId>
  users add <username> --role ${ROLES.join('|')} [--name "Display Name"]
  users list
  users disable <username>

Configuration comes from the environment; see .env.example for every setting.`

type ServiceRun = (ctx: Context) => Promise<{ close(): Promise<void> }>

const services: Record<string, ServiceRun> = {
  start: (ctx) => startAll(ctx),
  broker: async (ctx) => {
    const db = await openConfiguredDatabase(ctx)
    const broker = await startBroker(ctx, db)
    const { startOpsServer } = await import('./ops-server.ts')
    const ops = await startOpsServer(ctx, { pipeline: () => ({ ok: broker.broker.ready(), reason: broker.broker.problem() }), database: async () => (await db.query('SELECT 1')).rowCount === 1 })
    return { close: async () => { await ops.close(); await broker.close(); await db.close() } }
  },
  ingest: async (ctx) => {
    const db = await openConfiguredDatabase(ctx)
    const ingest = await startIngest(ctx, db)
    const { startOpsServer } = await import('./ops-server.ts')
    const ops = await startOpsServer(ctx, { broker: () => ingest.ready(), database: async () => (await db.query('SELECT 1')).rowCount === 1 })
    return { close: async () => { await ops.close(); await ingest.stop(); await db.close() } }
  },
  api: async (ctx) => {
    const db = await openConfiguredDatabase(ctx)
    const api = await startApi(ctx, db)
    return { close: async () => { await api.close(); await db.close() } }
  },
}

async function runService(name: string, config: Config, logger: Logger): Promise<void> {
  if (name === 'start') {
    // Before the migrations: a port another program holds is said at once, with the fix.
    const taken = await takenPorts(config)
    if (taken.length > 0) throw new PortError(taken.map((t) => t.message).join('\n'))
  }
  const ctx = createContext(config, logger)
  const running = await services[name]!(ctx)
  if (name === 'start') {
    const stack = running as Stack
    printBanner({ mode: 'start', ctx, stack, signIn: { users: (await listUsers(stack.db)).length } })
  }
  // Graceful shutdown on SIGINT/SIGTERM: stop taking work, flush and acknowledge, then exit.
  // Room for the pipeline to commit what it holds (SHUTDOWN_DRAIN_MS, 10 s) and for the rest to close.
  closeWithGrace({ delay: 30_000, logger: { error: (m) => logger.error(m) } }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error')
    else logger.info({ signal }, 'shutting down')
    await running.close()
  })
}

async function withDatabase<T>(config: Config, logger: Logger, fn: (ctx: Context, db: Awaited<ReturnType<typeof openConfiguredDatabase>>) => Promise<T>): Promise<T> {
  const ctx = createContext(config, logger)
  const db = await openConfiguredDatabase(ctx)
  try {
    return await fn(ctx, db)
  } finally {
    await db.close()
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(HELP)
    return command ? 0 : 1
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(helpFor(command))
    return 0
  }
  let config = loadConfig()
  if (DATA_COMMANDS.has(command)) {
    const located = locateDataDir(config)
    config = located.config
    if (located.note) console.error(located.note)
  }
  const logger = createLogger({ level: config.LOG_LEVEL, name: `kerbside-${command}`, destination: await logDestination() })

  if (command in services) {
    await runService(command, config, logger)
    return -1 // keep running
  }
  if (command === 'migrate') {
    await withDatabase(config, logger, async () => undefined)
    console.log('migrations are up to date')
    return 0
  }
  if (command === 'devices' || command === 'keys' || command === 'users') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { kind: { type: 'string' }, bin: { type: 'string' }, vehicle: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' }, 'open311-extended': { type: 'string' } } })
    const [sub, arg] = positionals
    let ops: AdminOps
    let done = async () => undefined as void
    try {
      const ctx = createContext(config, logger)
      const db = await openConfiguredDatabase(ctx)
      ops = databaseOps(db)
      done = () => db.close()
    } catch (err) {
      if (!(err instanceof EmbeddedDatabaseBusyError)) throw err
      ops = apiOps(localApi(config)) // a running Kerbside owns the embedded database: ask it
    }
    try {
      if (command === 'devices') return await devicesCommand(ops, sub, arg, values)
      if (command === 'keys') return await keysCommand(ops, sub, arg, values)
      return await usersCommand(ops, sub, arg, values)
    } finally {
      await done()
    }
  }
  const extra = extraCommands.find((c) => c.name === command)
  if (extra) return extra.run(rest, { config, logger })
  throw new UsageError(`unknown command ${command}; run kerbside help`)
}

/** Commands that work on an existing data folder (the demo's, when it is running: demo-locate.ts). */
const DATA_COMMANDS = new Set(['devices', 'keys', 'users', 'import', 'export'])

class UsageError extends Error {}
class PortError extends Error {}

/** Provisioning operations, on the database directly or through a running Kerbside's API. */
/** A moment as the database gives it (Date) or the API sends it (ISO 8601 text): the CLI only prints it. */
type Stamp = Date | string
type Stamped<T> = { [K in keyof T]: T[K] extends Date ? Stamp : T[K] extends Date | null ? Stamp | null : T[K] }
type DeviceRow = Pick<Stamped<DeviceRecord>, 'deviceId' | 'kind' | 'binId' | 'vehicleId' | 'revokedAt' | 'online' | 'lastSeq'>

/** What the provisioning commands do, on the database or through a running Kerbside's API. */
interface AdminOps {
  addDevice(input: { deviceId: string; kind: DeviceKind; binId?: string; vehicleId?: string }): Promise<{ secret: string }>
  listDevices(kind?: DeviceKind): Promise<DeviceRow[]>
  revokeDevice(id: string): Promise<boolean>
  createKey(name: string, role: Role, settings: ApiKeySettings): Promise<{ key: string; info: Stamped<ApiKeyInfo> }>
  listKeys(): Promise<Stamped<ApiKeyInfo>[]>
  /** The key as it now is; null when there is no active key with that id. */
  setKey(id: string, settings: Required<ApiKeySettings>): Promise<Stamped<ApiKeyInfo> | null>
  revokeKey(id: string): Promise<boolean>
  addUser(input: { username: string; displayName: string; role: Role }): Promise<{ user: Stamped<UserInfo>; password: string }>
  listUsers(): Promise<Stamped<UserInfo>[]>
  disableUser(username: string): Promise<boolean>
}

const databaseOps = (db: Database): AdminOps => ({
  addDevice: (input) => provisionDevice(db, input),
  listDevices: (kind) => listDevices(db, { kind, limit: 100_000, offset: 0 }),
  revokeDevice: (id) => revokeDevice(db, id),
  createKey: (name, role, settings) => createApiKey(db, name, role, settings),
  setKey: (id, settings) => updateApiKeySettings(db, id, settings),
  listKeys: () => listApiKeys(db),
  revokeKey: (id) => revokeApiKey(db, id),
  addUser: (input) => createUser(db, input),
  listUsers: () => listUsers(db),
  disableUser: (username) => disableUser(db, username),
})

const apiOps = (api: LocalApi): AdminOps => ({
  addDevice: (input) => answer(api.POST('/api/v1/devices', { body: input }), 'POST /devices'),
  listDevices: (kind) => answer(api.GET('/api/v1/devices', { params: { query: { limit: 1000, kind } } }), 'GET /devices'),
  revokeDevice: (id) => answer(api.DELETE('/api/v1/devices/{deviceId}', { params: { path: { deviceId: id } } }), `DELETE /devices/${id}`).then(() => true, falseWhenNotFound),
  createKey: (name, role, settings) => answer(api.POST('/api/v1/keys', { body: { name, role, ...settings } }), 'POST /keys'),
  setKey: (id, settings) => answer(api.PATCH('/api/v1/keys/{keyId}', { params: { path: { keyId: id } }, body: settings }), `PATCH /keys/${id}`).catch(nullWhenNotFound),
  listKeys: () => answer(api.GET('/api/v1/keys'), 'GET /keys'),
  revokeKey: (id) => answer(api.DELETE('/api/v1/keys/{keyId}', { params: { path: { keyId: id } } }), `DELETE /keys/${id}`).then(() => true, falseWhenNotFound),
  addUser: (input) => answer(api.POST('/api/v1/users', { body: input }), 'POST /users'),
  listUsers: () => answer(api.GET('/api/v1/users'), 'GET /users'),
  disableUser: (username) => answer(api.DELETE('/api/v1/users/{username}', { params: { path: { username } } }), `DELETE /users/${username}`).then(() => true, falseWhenNotFound),
})

async function usersCommand(ops: AdminOps, sub: string | undefined, username: string | undefined, values: { role?: string; name?: string }): Promise<number> {
  if (sub === 'add' && username) {
    if (!ROLES.includes(values.role as Role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`)
    const { user, password } = await ops.addUser({ username, displayName: values.name ?? username, role: values.role as Role })
    console.log(JSON.stringify({ ...user, password, note: 'the password is shown this once; give it to the user' }, null, 2))
    return 0
  }
  if (sub === 'list') {
    for (const u of await ops.listUsers()) console.log(`${u.username}\t${u.role}\t${u.displayName}\t${u.disabledAt ? 'disabled' : 'active'}`)
    return 0
  }
  if (sub === 'disable' && username) {
    console.log((await ops.disableUser(username)) ? `disabled ${username}` : `no active user ${username}`)
    return 0
  }
  throw new UsageError('users add|list|disable — see kerbside help')
}

async function devicesCommand(ops: AdminOps, sub: string | undefined, id: string | undefined, values: { kind?: string; bin?: string; vehicle?: string }): Promise<number> {
  if (sub === 'add' && id) {
    const kind = values.kind as DeviceKind
    if (!DEVICE_KINDS.includes(kind)) throw new UsageError('--kind must be bin or vehicle')
    const { secret } = await ops.addDevice({ deviceId: id, kind, binId: values.bin, vehicleId: values.vehicle })
    console.log(JSON.stringify({ deviceId: id, kind, secret, note: 'the secret is shown this once; configure it on the device now' }, null, 2))
    return 0
  }
  if (sub === 'list') {
    for (const d of await ops.listDevices(values.kind as DeviceKind | undefined)) console.log(`${d.deviceId}\t${d.kind}\t${d.binId ?? d.vehicleId ?? ''}\t${d.revokedAt ? 'revoked' : d.online ? 'online' : 'offline'}\tlast seq ${d.lastSeq ?? '-'}`)
    return 0
  }
  if (sub === 'revoke' && id) {
    console.log((await ops.revokeDevice(id)) ? `revoked ${id}` : `no active device ${id}`)
    return 0
  }
  throw new UsageError('devices add|list|revoke — see kerbside help')
}

/** --open311-extended on|off (also true/false, yes/no); undefined when not given. */
function onOff(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined
  const v = value.trim().toLowerCase()
  if (['on', 'true', 'yes', '1'].includes(v)) return true
  if (['off', 'false', 'no', '0'].includes(v)) return false
  throw new UsageError(`--open311-extended must be on or off, not ${JSON.stringify(value)}`)
}

async function keysCommand(ops: AdminOps, sub: string | undefined, arg: string | undefined, values: { role?: string; 'open311-extended'?: string }): Promise<number> {
  const open311Extended = onOff(values['open311-extended'])
  if (sub === 'create' && arg) {
    if (!ROLES.includes(values.role as Role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`)
    const { key, info } = await ops.createKey(arg, values.role as Role, { open311Extended })
    console.log(JSON.stringify({ ...info, key, note: 'the key is shown this once' }, null, 2))
    return 0
  }
  if (sub === 'list') {
    for (const k of await ops.listKeys()) console.log(`${k.keyId}\t${k.role}\t${k.name}\t${k.revokedAt ? 'revoked' : 'active'}${k.open311Extended ? '\topen311-extended' : ''}`)
    return 0
  }
  if (sub === 'set' && arg) {
    if (open311Extended === undefined) throw new UsageError('keys set <keyId> --open311-extended on|off')
    const info = await ops.setKey(arg, { open311Extended })
    if (!info) {
      console.error(`kerbside: no active key ${arg}`)
      return 1
    }
    console.log(`${info.keyId}: Open311 extended attributes ${info.open311Extended ? 'on' : 'off'}`)
    return 0
  }
  if (sub === 'revoke' && arg) {
    console.log((await ops.revokeKey(arg)) ? `revoked ${arg}` : `no active key ${arg}`)
    return 0
  }
  throw new UsageError('keys create|list|set|revoke — see kerbside help')
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code
}, (err: unknown) => {
  if (err instanceof PortError) console.error((err as Error).message.split('\n').map((m) => `kerbside: ${m}`).join('\n'))
  else if (err instanceof ConfigError || err instanceof MigrationError || err instanceof UsageError || err instanceof ApiClientError || err instanceof EmbeddedDatabaseBusyError) console.error(`kerbside: ${(err as Error).message}`)
  else if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE') console.error(portInUse(err as NodeJS.ErrnoException & { port?: number }))
  else if ((err as NodeJS.ErrnoException)?.code?.startsWith('ERR_PARSE_ARGS_')) console.error(`kerbside: ${(err as Error).message.split('. ')[0]}; see kerbside ${process.argv[2] ?? ''} --help`)
  else console.error('kerbside: failed to start:', err)
  process.exit(1)
})

/** The help's lines about one command (with their continuation lines), or all of it. */
function helpFor(command: string): string {
  const lines = HELP.split('\n')
  const picked: string[] = []
  let inCommand = false
  for (const line of lines) {
    if (/^  \S/.test(line)) inCommand = line.startsWith(`  ${command} `) || line === `  ${command}`
    else if (!/^ {3,}\S/.test(line)) inCommand = false
    if (inCommand) picked.push(line)
  }
  return picked.length ? `Usage:\n${picked.join('\n')}\n\nkerbside help lists every command; configuration comes from the environment (.env.example).` : HELP
}

/** The port another program holds, and the setting that moves Kerbside off it. */
function portInUse(err: NodeJS.ErrnoException & { port?: number }): string {
  const settings: Record<number, string> = { [config0('MQTT_PORT', 1883)]: 'MQTT_PORT', [config0('MQTT_WS_PORT', 8083)]: 'MQTT_WS_PORT', [config0('MQTTS_PORT', 8883)]: 'MQTTS_PORT', [config0('HTTP_PORT', 8080)]: 'HTTP_PORT' }
  const setting = err.port !== undefined ? settings[err.port] : undefined
  return `kerbside: port ${err.port ?? '?'} is already in use by another program${err.port === 1883 ? ' (another MQTT broker, such as Mosquitto?)' : ''}. ` +
    `Stop it, or run Kerbside on another port${setting ? `: ${setting}=${(err.port ?? 0) + 1} npm start` : ''}.`
}

function config0(name: string, fallback: number): number {
  const v = Number(process.env[name])
  return Number.isInteger(v) && v > 0 ? v : fallback
}

/**
 * Logs for a person at a terminal are easier read pretty (pino-pretty); piped into a file or a log
 * collector they stay one JSON object a line. pino-pretty is a development dependency: an install
 * without it logs JSON everywhere.
 */
async function logDestination(): Promise<DestinationStream | undefined> {
  if (!process.stdout.isTTY) return undefined
  try {
    const { default: pretty } = await import('pino-pretty')
    return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' })
  } catch {
    return undefined
  }
}
