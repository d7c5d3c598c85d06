// `kerbside demo` (npm run demo): the whole embedded stack with a simulated city, so that a newcomer
// finds every dashboard page filled at first sight and sees lifts arrive within a minute, at any
// hour of any day.
//
// On its first start the demo simulates the city's past five to eight weeks (demo-city.ts says
// which) through the broker and ingest as fast as they take it, works out what the hourly and daily
// jobs would have (demo-history.ts), and then carries on at real time: one simulation and one clock
// from the first day of the history to now and on. Its rounds are timed around the moment it starts
// (demo-city.ts), so crews are out now. The folder is kept: a restart simulates the time it was
// stopped for, quickly, and carries on; --reset starts again from nothing. A share of its bins have
// LoRaWAN sensors instead, whose uplinks come through the webhooks as from The Things Stack and
// ChirpStack (demo-lorawan.ts).
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import closeWithGrace from 'close-with-grace'
import { addDays } from '../analysis/calendar/dates.ts'
import { startScheduler, type Scheduler } from '../analysis/scheduler.ts'
import type { Config } from '../core/config.ts'
import type { Logger } from '../core/log.ts'
import { generateSecret } from '../core/secrets.ts'
import { createClock } from '../simulators/clock.ts'
import { installCity } from '../simulators/install-city.ts'
import { createSimulation } from '../simulators/model/simulation.ts'
import { createDirectWriter } from '../simulators/run/direct-writer.ts'
import { runSimulation } from '../simulators/run/run-simulation.ts'
import { londonDate } from '../simulators/time.ts'
import { createApiKey } from '../storage/api-keys.ts'
import type { Database } from '../storage/database.ts'
import { createUser, listUsers } from '../storage/users.ts'
import type { ExtraCommand } from './commands.ts'
import { demoCity, describeShifts, historyStart } from './demo-city.ts'
import { describeLoRaWAN, lorawanBins, startDemoLoRaWAN, type DemoLoRaWAN } from './demo-lorawan.ts'
import { prepareDemoFolder, writeMarker, type DemoMarker } from './demo-folder.ts'
import { catchUpAnalysis, historicReportFiler } from './demo-history.ts'
import { printBanner } from './start-banner.ts'
import { createContext, startAll, type Context, type Stack } from './stack.ts'

const DAY_MS = 86_400_000
/** A restarted demo simulates the time it was stopped for, up to this much. */
const MAX_GAP_MS = 56 * DAY_MS
/** In the history, sensors report every four hours (live: every ten minutes) so that weeks replay in seconds. */
const HISTORY_READING_INTERVAL_S = 4 * 3600
const DEMO_USER = 'demo'

class DemoError extends Error {
  override name = 'KERBSIDE_ERR_DEMO'
}

/** Start everything; a configured port that is taken (another broker on 1883, say) is swapped for a free one. */
async function startStack(config: Config, logger: Logger): Promise<{ ctx: Context; stack: Stack }> {
  let current = config
  for (let attempt = 0; ; attempt++) {
    const ctx = createContext(current, logger)
    try {
      return { ctx, stack: await startAll(ctx) }
    } catch (err) {
      const e = err as { code?: string; port?: number }
      if (e.code !== 'EADDRINUSE' || attempt >= 3) throw err
      const taken = (['MQTT_PORT', 'MQTT_WS_PORT', 'HTTP_PORT'] as const).find((k) => current[k] === e.port) ?? 'MQTT_PORT'
      console.log(`Port ${e.port} is already in use; ${taken} will use a free port instead (the addresses below are the real ones).`)
      current = { ...current, [taken]: 0 }
    }
  }
}

/** The demo's sign-in: created on the first start, its password kept in the demo's marker file. */
async function demoUser(db: Database, marker: DemoMarker): Promise<{ username: string; password: string | null }> {
  const existing = (await listUsers(db)).find((u) => u.username === DEMO_USER && !u.disabledAt)
  if (existing) return { username: DEMO_USER, password: marker.demoUser?.password ?? null }
  const { password } = await createUser(db, { username: DEMO_USER, displayName: 'Demo contract manager', role: 'admin' })
  marker.demoUser = { username: DEMO_USER, password }
  return { username: DEMO_USER, password }
}

const day = (ms: number) => new Date(ms).toLocaleDateString('en-GB', { timeZone: 'Europe/London', weekday: 'short', day: 'numeric', month: 'short' })
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

export const demoCommand: ExtraCommand = {
  name: 'demo',
  usage: 'demo [--reset]',
  summary: 'everything in one process with a simulated city and weeks of history (options: --households, --seed, --data-dir)',
  async run(args, env) {
    const t0 = performance.now()
    const { values } = parseArgs({ args, options: { households: { type: 'string' }, seed: { type: 'string' }, 'data-dir': { type: 'string' }, reset: { type: 'boolean' } } })
    const households = Number(values.households ?? 1200)
    const seed = Number(values.seed ?? 1)
    if (!Number.isInteger(households) || households < 50 || households > 20_000) throw new DemoError('--households must be a whole number from 50 to 20,000')
    if (!Number.isInteger(seed)) throw new DemoError('--seed must be a whole number')

    const dataDir = values['data-dir'] ?? join(env.config.KERBSIDE_DATA_DIR, 'demo')
    const marker = prepareDemoFolder(dataDir, { reset: values.reset ?? false })
    const fresh = !marker.city
    // The demo runs on its own embedded database, whatever DATABASE_URL says, and keeps the services'
    // logs to warnings so that its own lines can be read. Jobs start once the history is worked out.
    // Its simulated LoRaWAN network servers send the secrets configured here (or the ones set in the
    // environment, so that a real network server can be pointed at the demo too).
    const lorawanSecrets = { ttn: env.config.LORAWAN_TTN_SECRET ?? generateSecret(), chirpstack: env.config.LORAWAN_CHIRPSTACK_SECRET ?? generateSecret() }
    const config: Config = { ...env.config, KERBSIDE_DATA_DIR: dataDir, DATABASE_URL: undefined, MQTT_URL: undefined, KERBSIDE_JOBS: false, LORAWAN_TTN_SECRET: lorawanSecrets.ttn, LORAWAN_CHIRPSTACK_SECRET: lorawanSecrets.chirpstack }
    console.log(`Starting Kerbside (broker, ingest, API, dashboard) on an embedded database in ${dataDir}${fresh ? '' : ' (kept from the last demo; --reset to start again)'}…`)
    const { ctx, stack } = await startStack(config, env.logger.child({}, { level: 'warn' }))
    const db = stack.db
    console.log(`Services up in ${seconds(performance.now() - t0)}; ${fresh ? 'installing the city' : 'checking the city'}…`)

    const now = Date.now()
    if (fresh) marker.city = { seed, households, start: londonDate(historyStart(now)) }
    else if (values.households || values.seed) console.log(`(this demo folder holds a city of ${marker.city!.households} households, seed ${marker.city!.seed}; --reset to make another)`)
    const { city, shifts } = demoCity({ ...marker.city!, now })
    marker.deviceSecret ??= generateSecret()
    const simStart = fresh ? historyStart(now) : Math.min(Math.max(marker.simulatedUntil ?? 0, now - MAX_GAP_MS), now - 60_000)
    const t1 = performance.now()
    await installCity(db, city, { secret: marker.deviceSecret, calendar: { from: londonDate(simStart), to: addDays(londonDate(now), 56), today: addDays(londonDate(simStart), -1) } })
    stack.api.app.mapSnapshots?.invalidate() // the city was installed behind the API: a map built before it is empty
    const crm = await createApiKey(db, 'demo residents (simulated CRM)', 'crm')
    const provisioning = await createApiKey(db, 'demo LoRaWAN sensors (simulated network servers)', 'provisioning')
    const user = await demoUser(db, marker)
    writeMarker(dataDir, marker)
    console.log(`City of ${city.households.length.toLocaleString('en-GB')} households, ${city.bins.length.toLocaleString('en-GB')} bins (${city.devices.filter((d) => d.kind === 'bin').length} with sensors), ${city.vehicles.length} vehicles ${fresh ? 'installed' : 'checked'} in ${seconds(performance.now() - t1)}`)

    const { rows } = await db.query<{ deviceId: string; lastSeq: number }>(`SELECT device_id AS "deviceId", last_seq AS "lastSeq" FROM devices WHERE last_seq IS NOT NULL`)
    const simulation = createSimulation(city, {
      start: simStart, end: now + 28 * DAY_MS,
      history: { until: now, readingIntervalS: HISTORY_READING_INTERVAL_S },
      lastSeqs: new Map(rows.map((r) => [r.deviceId, Number(r.lastSeq)])),
      // The crews log every bin that was not put out (in-cab systems ask for it): a bin passed
      // without a word counts as missed, and at the simulator's default (15 % unlogged) that alone
      // would put the city at hundreds of misses per 100,000 instead of the tens of a real contract.
      // One sensor in fifty has a faulty transducer that now and then reports an impossible fill
      // (fillPct 142): refused into quarantine, which the Quarantine page shows an operator.
      behaviour: { crew: { missRate: 0.0008, logNotPresented: 1 }, sensors: { readingIntervalS: 600, faultyShare: 0.02, faultyReadingRate: 0.05 }, vehicles: { positionIntervalS: 10 } },
    })
    const pastDays = Math.round((now - simStart) / DAY_MS)
    if (now - simStart > 60 * 60_000) console.log(`Simulating the ${pastDays > 1 ? `past ${pastDays} days` : 'time since the last demo'} (${day(simStart)} to now) through ingest's storage, as fast as it goes…`)

    const stop = new AbortController()
    let scheduler: Scheduler | null = null
    let lorawan: DemoLoRaWAN | null = null
    let simulatedUntil = simStart
    const tty = process.stdout.isTTY === true
    let lastPrinted = 0
    const run = runSimulation({
      simulation, clock: createClock({ start: simStart, speed: 'max', capAtRealTime: true }),
      mqttUrl: stack.mqttUrl, secret: marker.deviceSecret, api: { url: stack.api.url, key: crm.key }, signal: stop.signal,
      progressEveryMs: 10 * 60_000,
      onProgress: (p) => {
        simulatedUntil = p.simTime
        if (p.simTime < now) {
          // In the history, a line a simulated day (rewritten in place on a terminal).
          if (p.simTime - lastPrinted < DAY_MS) return
          lastPrinted = p.simTime
          const line = `  ${day(p.simTime)}  ${p.messages.toLocaleString('en-GB')} messages, ${p.reports} missed-bin reports  (${seconds(performance.now() - t0)})`
          if (tty) process.stdout.write(`\r${line}   `)
          else if (Math.round((p.simTime - simStart) / DAY_MS) % 7 === 0) console.log(line)
          return
        }
        marker.simulatedUntil = p.simTime
        writeMarker(dataDir, marker)
      },
      history: {
        until: now,
        store: createDirectWriter(db, { maxPayloadBytes: config.INGEST_MAX_PAYLOAD_BYTES }),
        fileReport: historicReportFiler(db, crm.info.keyId),
        onDone: async (p) => {
          if (tty) process.stdout.write('\n')
          console.log(`History replayed: ${p.messages.toLocaleString('en-GB')} messages and ${p.reports} reports in ${seconds(performance.now() - t0)} since the start; working out outcomes, KPIs, rewards and forecasts…`)
          scheduler = startScheduler({ db, logger: ctx.logger.child({ component: 'jobs' }), registry: ctx.registry, timezone: config.KERBSIDE_TIMEZONE, config })
          // The LoRaWAN bins: registered by DevEUI, their last hours sent, then live through the
          // webhooks — meanwhile the past's outcomes are worked out (live rounds wait for both).
          const lorawanT0 = performance.now()
          const lorawanStarting = startDemoLoRaWAN({
            url: stack.api.url, provisioningKey: provisioning.key, secrets: lorawanSecrets, bins: lorawanBins(city), seed: marker.city!.seed,
            onError: (err) => { if (!stop.signal.aborted) console.error('kerbside demo: a LoRaWAN round failed:', err) },
          }).catch((err: unknown) => { console.error('kerbside demo: the LoRaWAN sensors did not start:', err); return null })
          const caught = await catchUpAnalysis(db, scheduler, londonDate(simStart), new Date())
          console.log(`  ${caught.collections.toLocaleString('en-GB')} collections decided (${Object.entries(caught.outcomes).map(([k, v]) => `${v} ${k.replace(/_/g, ' ')}`).join(', ')}), ${caught.kpiDays} KPI days rolled up, ${caught.rewardMonths} reward months posted in ${seconds(caught.ms)}`)
          lorawan = await lorawanStarting
          if (lorawan) console.log(`  ${lorawan.sensors.length} LoRaWAN sensors registered and ${lorawan.past.toLocaleString('en-GB')} uplinks of the last hours sent through the webhooks in ${seconds(performance.now() - lorawanT0)}`)
          marker.simulatedUntil = p.simTime
          marker.running = { pid: process.pid, httpUrl: stack.api.url, mqttUrl: stack.mqttUrl, startedAt: new Date().toISOString() }
          writeMarker(dataDir, marker)
          printBanner({
            mode: 'demo', ctx, stack, signIn: { username: user.username, password: user.password, dataDir },
            extra: [
              `City          ${city.households.length.toLocaleString('en-GB')} households, ${city.rounds.length} rounds, history from ${day(simStart)}`, `Crews         ${describeShifts(shifts, now)}`,
              ...(lorawan ? [`LoRaWAN       ${describeLoRaWAN(lorawan)}`] : []),
            ],
          })
          console.log(`Dashboard populated ${seconds(performance.now() - t0)} after the start. Live lifts arrive on the map now. Press Ctrl-C to stop (the data is kept).`)
        },
      },
    }).catch((err: unknown) => {
      if (!stop.signal.aborted) console.error('kerbside demo: the simulation stopped:', err)
    })
    closeWithGrace({ delay: 20_000 }, async ({ err }) => {
      if (err) console.error('kerbside demo: shutting down after an error:', err)
      stop.abort()
      await run
      await (lorawan as DemoLoRaWAN | null)?.stop()
      ;(scheduler as Scheduler | null)?.stop()
      await stack.close()
      marker.simulatedUntil = Math.max(marker.simulatedUntil ?? 0, simulatedUntil)
      delete marker.running
      writeMarker(dataDir, marker)
    })
    return -1
  },
}
