// Fill forecasts against the simulator's truth (measure.ts): a 300-household city with sensors on half
// its wheeled bins, four weeks of hourly-ish readings, forecasts made each morning of the last ten days
// as the readings stood then. Then the job stores them and the contract manager's list puts bins
// forecast to overflow before their collection first, communal and high-use first.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApi, type Api } from '../../../api/build-api.ts'
import { addDays } from '../../../analysis/calendar/dates.ts'
import { fillForecastJob } from '../../../analysis/forecast/job.ts'
import { ukInstant } from '../../../analysis/outcomes/local-time.ts'
import { silentLogger } from '../../../core/log.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { loadSimulatedCity, type SimulatedCity } from '../../helpers/simulated-city.ts'
import { forecastError, type ForecastError } from './measure.ts'

const START = '2026-03-02'
const DAYS = 28
let db: Database
let sim: SimulatedCity
let fe: ForecastError

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  sim = await loadSimulatedCity(db, {
    city: { seed: 5, households: 300, start: START, sensorShare: 0.5 }, days: DAYS,
    behaviour: { sensors: { readingIntervalS: 7200 }, vehicles: { positionIntervalS: 300 } },
  })
  fe = await forecastError(db, sim, [18, 20, 22, 24, 26].map((d) => ukInstant(addDays(START, d), 6 * 60)))
}, 900_000)
afterAll(async () => { await db?.close() })

describe('fill forecasts against the truth (seed 5, 300 households, 4 weeks)', () => {
  test('days to full within a couple of days for bins that really filled, little bias', () => {
    expect(fe.filled).toBeGreaterThan(30)
    expect(fe.maeDays).toBeLessThan(2.5)
    expect(fe.medianAbsDays).toBeLessThan(2)
    expect(Math.abs(fe.biasDays)).toBeLessThan(1)
  })

  test('overflow alerts find most bins that really overflow before their collection', () => {
    expect(fe.overflow.actual).toBeGreaterThan(20)
    expect(fe.overflow.recall).toBeGreaterThanOrEqual(0.7)
    expect(fe.overflow.precision).toBeGreaterThanOrEqual(0.5)
    expect(fe.falseAlarms / fe.notFilled).toBeLessThan(0.1)
  })

  test('the job stores every sensor bin; the list puts overflow first, then priority, then soonest full', async () => {
    const now = ukInstant(addDays(START, DAYS - 2), 6 * 60)
    const detail = await fillForecastJob.run({ db, logger: silentLogger, now, period: 'test' }) as { bins: number; overflow: number }
    const sensors = sim.city.bins.filter((b) => b.sensorDeviceId).length
    expect(detail.bins).toBe(sensors)
    expect(detail.overflow).toBeGreaterThan(0)
    const app: Api = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: 'admin-key-of-the-forecast-test-0123456789' })
    try {
      const key = (await createApiKey(db, 'contract manager', 'contract_manager')).key
      const crm = (await createApiKey(db, 'crm', 'crm')).key
      const res = await app.inject({ url: '/api/v1/forecasts/bins?limit=1000', headers: { authorization: `Bearer ${key}` } })
      expect(res.statusCode).toBe(200)
      const list = res.json() as { binId: string; overflow: boolean; priority: number; fullAt: string | null; fillAtNextPct: number | null; nextCollectionAt: string | null }[]
      expect(list.length).toBe(detail.overflow)
      for (const f of list) {
        expect(f.overflow).toBe(true)
        expect(Date.parse(f.fullAt!)).toBeLessThan(Date.parse(f.nextCollectionAt!))
        expect(f.fillAtNextPct!).toBeGreaterThan(99)
      }
      for (let i = 1; i < list.length; i++) {
        const [a, b] = [list[i - 1]!, list[i]!]
        expect(a.priority < b.priority || (a.priority === b.priority && Date.parse(a.fullAt!) <= Date.parse(b.fullAt!))).toBe(true)
      }
      const all = (await app.inject({ url: '/api/v1/forecasts/bins?overflow=false&limit=1000', headers: { authorization: `Bearer ${key}` } })).json() as unknown[]
      expect(all.length).toBe(sensors)
      const one = await app.inject({ url: `/api/v1/forecasts/bins/${list[0]!.binId}`, headers: { authorization: `Bearer ${key}` } })
      expect(one.json()).toMatchObject({ binId: list[0]!.binId, overflow: true })
      expect((await app.inject({ url: '/api/v1/forecasts/bins', headers: { authorization: `Bearer ${crm}` } })).statusCode).toBe(403)
      expect((await app.inject({ url: '/api/v1/forecasts/bins/no-such-bin', headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(404)
    } finally {
      await app.close()
    }
  })
})
