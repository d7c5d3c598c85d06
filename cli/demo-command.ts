// `kerbside demo` (npm run demo): the whole embedded stack with a small simulated city, so that a
// newcomer sees bins filling, vehicles driving their rounds and lifts arriving within a minute.
//
// Device clocks may not run ahead of the server's (ingest refuses timestamps more than ten minutes
// in the future), so the demo starts its simulated day two hours back, replays those hours quickly,
// and then carries on at real time. The city's rounds all run today, starting as the replay begins.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import closeWithGrace from 'close-with-grace'
import { addDays, isoWeekday } from '../analysis/calendar/dates.ts'
import type { Config } from '../core/config.ts'
import type { Logger } from '../core/log.ts'
import { createApiKey } from '../storage/api-keys.ts'
import { createClock } from '../simulators/clock.ts'
import { generateCity } from '../simulators/city/generate-city.ts'
import { installCity } from '../simulators/install-city.ts'
import { createSimulation } from '../simulators/model/simulation.ts'
import { runSimulation } from '../simulators/run/run-simulation.ts'
import { londonDate, londonMinutes } from '../simulators/time.ts'
import type { ExtraCommand } from './commands.ts'
import { createContext, DASHBOARD_DIR, startAll, type Context, type Stack } from './stack.ts'

const MARKER = 'kerbside-demo.json'
const REPLAY_HOURS = 2

class DemoError extends Error {
  override name = 'KERBSIDE_ERR_DEMO'
}

/** A fresh demo folder each run; a folder that is not a demo's is never deleted. */
function prepareDataDir(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!existsSync(join(dir, MARKER))) throw new DemoError(`${dir} exists and is not a demo folder; choose another with --data-dir`)
    rmSync(dir, { recursive: true, force: true })
  }
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, MARKER), JSON.stringify({ createdAt: new Date().toISOString(), note: 'kerbside demo data; deleted at the next demo start' }, null, 2))
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
      console.log(`Port ${e.port} is already in use; ${taken} will use a free port instead.`)
      current = { ...current, [taken]: 0 }
    }
  }
}

const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60) % 24).padStart(2, '0')}:${String(Math.floor(minutes % 60)).padStart(2, '0')}`

export const demoCommand: ExtraCommand = {
  name: 'demo',
  usage: 'demo [--households N]',
  summary: 'everything in one process with a simulated city (options: --speed, --seed, --data-dir)',
  async run(args, env) {
    const { values } = parseArgs({ args, options: { households: { type: 'string' }, speed: { type: 'string' }, seed: { type: 'string' }, 'data-dir': { type: 'string' } } })
    const households = Number(values.households ?? 400)
    const speed = Number(values.speed ?? 60)
    const seed = Number(values.seed ?? 1)
    if (!Number.isInteger(households) || households < 10 || households > 20_000) throw new DemoError('--households must be a whole number from 10 to 20,000')
    if (!(speed >= 1)) throw new DemoError('--speed must be at least 1 (simulated seconds per real second)')
    if (!Number.isInteger(seed)) throw new DemoError('--seed must be a whole number')

    const dataDir = values['data-dir'] ?? join(env.config.KERBSIDE_DATA_DIR, 'demo')
    prepareDataDir(dataDir)
    // The demo runs on its own embedded database, whatever DATABASE_URL says, and keeps the
    // services' logs to warnings so that its own lines can be read.
    const config: Config = { ...env.config, KERBSIDE_DATA_DIR: dataDir, DATABASE_URL: undefined, MQTT_URL: undefined, KERBSIDE_JOBS: true }
    console.log('Starting Kerbside (broker, ingest, API, jobs, dashboard) on an embedded database…')
    const { ctx, stack } = await startStack(config, env.logger.child({}, { level: 'warn' }))

    // Today's city: every round runs today, starting as the replay starts.
    const simStart = Math.floor((Date.now() - REPLAY_HOURS * 3_600_000) / 60_000) * 60_000
    const day = londonDate(simStart)
    const startsAt = Math.ceil((londonMinutes(simStart) + 5) / 5) * 5
    const city = generateCity({
      seed, households, start: day, sensorShare: 0.3, weekdays: [isoWeekday(day)],
      roundStartsAt: hhmm(Math.min(startsAt, 23 * 60)), roundEndsAt: hhmm(Math.min(startsAt + 8 * 60, 23 * 60 + 59)),
    })
    const installed = await installCity(stack.db, city, { calendar: { from: day, to: addDays(day, 56), today: addDays(day, -1) } })
    stack.api.app.mapSnapshots?.invalidate() // the city was installed behind the API: a map built before it is empty
    const { key } = await createApiKey(stack.db, 'demo residents (simulated CRM)', 'crm')
    const simulation = createSimulation(city, {
      start: simStart, days: 28,
      // A livelier city than a real one: more misses to report, sensors and vehicles reporting often.
      behaviour: { crew: { missRate: 0.01 }, sensors: { readingIntervalS: 600 }, vehicles: { positionIntervalS: 10 } },
    })

    const port = new URL(stack.api.url).port
    const dashboard = `${stack.api.url.startsWith('https') ? 'https' : 'http'}://localhost:${port}/`
    console.log('')
    console.log(`  Dashboard     ${dashboard}${existsSync(join(DASHBOARD_DIR, 'index.html')) ? '' : '  (not built: run npm run build:dashboard)'}`)
    console.log(`  API docs      ${dashboard}docs`)
    console.log(`  Admin key     in ${ctx.secrets.file} (adminKey)`)
    console.log(`  MQTT broker   ${stack.mqttUrl}`)
    console.log(`  City          ${city.households.length} households, ${city.bins.length} bins, ${city.devices.filter((d) => d.kind === 'bin').length} sensors, ${city.vehicles.length} vehicles, ${city.rounds.length} rounds today`)
    console.log(`  Time          the last ${REPLAY_HOURS} hours replayed at ${speed}×, then real time; rounds start at ${hhmm(startsAt)}`)
    console.log('')
    console.log('Press Ctrl-C to stop.')

    const stop = new AbortController()
    const clock = createClock({ start: simStart, speed, capAtRealTime: true })
    const run = runSimulation({
      simulation, clock, mqttUrl: stack.mqttUrl, secret: installed.secret, api: { url: stack.api.url, key }, signal: stop.signal, progressEveryMs: 10 * 60_000,
      onProgress: (p) => console.log(`${new Date(p.simTime).toLocaleTimeString('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit' })}  ${p.messages.toLocaleString('en-GB')} messages, ${p.reports} missed-bin reports${p.simTime >= Date.now() - 60_000 ? '  (real time)' : ''}`),
    }).catch((err: unknown) => {
      if (!stop.signal.aborted) console.error('kerbside demo: the simulation stopped:', err)
    })
    closeWithGrace({ delay: 20_000 }, async ({ err }) => {
      if (err) console.error('kerbside demo: shutting down after an error:', err)
      stop.abort()
      await run
      await stack.close()
    })
    return -1
  },
}
