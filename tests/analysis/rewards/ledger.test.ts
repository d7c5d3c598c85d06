// The reward ledger on the real embedded database: every entry of the fixture town equals the hand
// computation in the comments (rules in docs/rewards.md), caps included; a rerun adds nothing; late
// data adds adjusting entries only; the ledger refuses edits; each posting is announced in the outbox.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { householdRewards, postRewards, rewardBalance } from '../../../analysis/rewards/ledger.ts'
import { wardLeaderboard } from '../../../analysis/rewards/leaderboard.ts'
import { rewardsJob } from '../../../analysis/rewards/job.ts'
import { RewardPeriodError } from '../../../analysis/rewards/periods.ts'
import { startScheduler } from '../../../analysis/scheduler.ts'
import { listCrmEvents } from '../../../storage/crm-outbox.ts'
import { lift, seedTown, U } from './fixture.ts'

const APRIL_10 = new Date('2026-04-10T09:00:00Z')
let db: Database
beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedTown(db)
})
afterAll(async () => db?.close())

const entries = async (uprn: number, period: string) => (await db.query<{ rule: string; kind: string; points: number }>(
  `SELECT rule, kind, points FROM reward_ledger WHERE uprn = $1 AND period = $2 ORDER BY entry_id`, [uprn, `${period}-01`])).rows
const rewardEvents = async () => (await listCrmEvents(db, { after: 0, limit: 1000 })).filter((e) => e.type === 'reward.points_posted')

describe('posting a month', () => {
  test('January to March in order: E (contract K2) reaches its monthly cap each month', async () => {
    const postings = await postRewards(db, { from: '2026-01', now: APRIL_10 })
    expect(postings.map((p) => [p.period, p.households, p.entries, p.points])).toEqual([
      // 100 kg × 5.5 = 550, 4 bins × 2 = 8: 558, capped at 400.
      ['2026-01', 1, 3, 400],
      ['2026-02', 1, 3, 400],
      // A 330, B 8, C 118, D 2, E 200, F 0; G has only a communal bin.
      ['2026-03', 6, 16, 658],
    ])
    expect(await entries(U.E, '2026-01')).toEqual([
      { rule: 'recycled_weight', kind: 'award', points: 550 },
      { rule: 'presentation', kind: 'award', points: 8 },
      { rule: 'monthly_cap', kind: 'award', points: -158 },
    ])
  })

  test('recycled weight, residual below the ward baseline and presentation (A)', async () => {
    // 44.0 kg recycling + 6.3 kg glass = 50.3 kg × 5.5 = 276.65 → 276. The 3 kg lift at 00:30 BST on
    // 1 April is April's. Residual (8.0 + 7.0) / 2 = 7.5 kg per collection; North's median of A 7.5,
    // B 13.0 and C 10.5 is 10.5, less 10% = 9.45: 40 points. 7 bins emptied without exception × 2 = 14.
    expect(await entries(U.A, '2026-03')).toEqual([
      { rule: 'recycled_weight', kind: 'award', points: 276 },
      { rule: 'residual_reduction', kind: 'award', points: 40 },
      { rule: 'presentation', kind: 'award', points: 14 },
    ])
    const { entries: ledger } = await householdRewards(db, U.A, { limit: 10, offset: 0 })
    const recycled = ledger.find((e) => e.rule === 'recycled_weight')!
    expect(recycled.reason).toBe('50.3 kg recycled in 5 weighed lifts at 5.5 points per kg')
    expect(recycled.evidence).toMatchObject({ kg: 50.3, lifts: 5, pointsPerKg: 5.5, streams: ['recycling', 'glass'] })
    expect(recycled.evidence.liftIds).toHaveLength(5)
    const residual = ledger.find((e) => e.rule === 'residual_reduction')!
    expect(residual.evidence).toMatchObject({ kgPerCollection: 7.5, collections: 2, wardBaselineKg: 10.5, thresholdKg: 9.45, wardHouseholds: 3, baseline: 'median' })
    expect(residual.reason).toBe('Residual waste 7.5 kg per collection over 2 collections, at or below the ward median of 10.5 kg less 10% (9.45 kg)')
    expect(await rewardBalance(db, U.A)).toBe(330)
  })

  test('contamination: one penalty per bin per day, and no presentation points that day (B)', async () => {
    // 5.0 kg × 5.5 = 27.5 → 27; residual 13.0 kg is above 9.45; 3 bins presented × 2 = 6; 1 contaminated bin −25.
    expect(await entries(U.B, '2026-03')).toEqual([
      { rule: 'recycled_weight', kind: 'award', points: 27 },
      { rule: 'presentation', kind: 'award', points: 6 },
      { rule: 'contamination', kind: 'award', points: -25 },
    ])
    expect(await rewardBalance(db, U.B)).toBe(8)
  })

  test('a weight over the bin\'s rated load is not counted, but the bin was presented (C); one weighed residual lift is too few (D)', async () => {
    // 20 kg × 5.5 = 110 (the 150 kg reading is over 96 kg); 4 bins × 2 = 8; 10.5 kg is above 9.45.
    expect(await entries(U.C, '2026-03')).toEqual([
      { rule: 'recycled_weight', kind: 'award', points: 110 },
      { rule: 'presentation', kind: 'award', points: 8 },
    ])
    // One bin emptied; the other was not presented.
    expect(await entries(U.D, '2026-03')).toEqual([{ rule: 'presentation', kind: 'award', points: 2 }])
    expect(await entries(U.G, '2026-03')).toEqual([])
  })

  test('monthly cap, then the yearly cap of a contract\'s own rules (E)', async () => {
    // 558 earned, capped at 400; K2's year (from January) already holds 800 of its 1,000: 200 left.
    expect(await entries(U.E, '2026-03')).toEqual([
      { rule: 'recycled_weight', kind: 'award', points: 550 },
      { rule: 'presentation', kind: 'award', points: 8 },
      { rule: 'monthly_cap', kind: 'award', points: -158 },
      { rule: 'yearly_cap', kind: 'award', points: -200 },
    ])
    const { entries: ledger, periods, balance } = await householdRewards(db, U.E, { limit: 50, offset: 0 })
    expect(ledger.find((e) => e.rule === 'yearly_cap' && e.period === '2026-03')!.reason)
      .toBe("Yearly cap of 1000 points for the scheme year from 2026-01: 800 earned in earlier months, so 200 of this month's 400 not awarded")
    expect(periods).toEqual([{ period: '2026-03', points: 200 }, { period: '2026-02', points: 400 }, { period: '2026-01', points: 400 }])
    expect(balance).toBe(1000)
  })

  test('penalties never take the month below zero (F)', async () => {
    // 1 bin × 2 = 2; 2 contaminated bins × −25 = −50; −48 is lifted to 0.
    expect(await entries(U.F, '2026-03')).toEqual([
      { rule: 'presentation', kind: 'award', points: 2 },
      { rule: 'contamination', kind: 'award', points: -50 },
      { rule: 'monthly_floor', kind: 'award', points: 48 },
    ])
    expect(await rewardBalance(db, U.F)).toBe(0)
  })

  test('each household posted to gets one event in the outbox, with its period total and balance', async () => {
    const events = await rewardEvents()
    expect(events).toHaveLength(8)
    const a = events.find((e) => e.uprn === U.A)!
    expect(a.idempotencyKey).toMatch(/^reward:200000000001:2026-03:\d+$/)
    expect(a.crmRef).toBe('CRM-A')
    expect(a.data).toMatchObject({ period: '2026-03', points: 330, periodPoints: 330, balance: 330 })
    expect(a.type === 'reward.points_posted' && a.data.entries.map((e) => [e.rule, e.points])).toEqual([['recycled_weight', 276], ['residual_reduction', 40], ['presentation', 14]])
  })
})

describe('reruns and late data', () => {
  test('posting the same months again adds nothing', async () => {
    const before = await rewardEvents()
    const postings = await postRewards(db, { from: '2026-01', now: APRIL_10 })
    expect(postings.map((p) => p.entries)).toEqual([0, 0, 0])
    expect(await rewardEvents()).toHaveLength(before.length)
  })

  test('late lifts add adjusting entries for the difference only, caps included', async () => {
    const countBefore = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM reward_ledger`)).rows[0]!.n
    await lift(db, U.A, 'A-rec', '2026-03-31T10:00:00Z', 'collected', 8.0)
    await lift(db, U.E, 'E-rec', '2026-03-31T09:00:00Z', 'collected', 25.0)
    const [march] = await postRewards(db, { from: '2026-03', now: APRIL_10 })
    expect(march).toMatchObject({ entries: 5, adjustments: 5, points: 46, events: 2 })
    // A: 58.3 kg × 5.5 = 320.65 → 320 (+44); 8 bins × 2 = 16 (+2).
    expect((await entries(U.A, '2026-03')).slice(3)).toEqual([
      { rule: 'recycled_weight', kind: 'adjustment', points: 44 },
      { rule: 'presentation', kind: 'adjustment', points: 2 },
    ])
    // E: 125 kg × 5.5 = 687 (+137), 5 bins × 2 = 10 (+2); 697 earned, capped at 400 (−297, so −139 more).
    expect((await entries(U.E, '2026-03')).slice(4)).toEqual([
      { rule: 'recycled_weight', kind: 'adjustment', points: 137 },
      { rule: 'presentation', kind: 'adjustment', points: 2 },
      { rule: 'monthly_cap', kind: 'adjustment', points: -139 },
    ])
    const { entries: ledger } = await householdRewards(db, U.E, { limit: 1, offset: 0 })
    expect(ledger[0]!.reason).toBe('Recalculated: Monthly cap of 400 points: 697 earned, 297 not awarded (-297 now, -158 posted before)')
    expect(await rewardBalance(db, U.A)).toBe(376)
    expect(await rewardBalance(db, U.E)).toBe(1000)
    // Nothing posted before was changed: the rows before are all still there.
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM reward_ledger`)).rows[0]!.n).toBe(countBefore + 5)
    const e = (await rewardEvents()).filter((x) => x.uprn === U.E).at(-1)!
    expect(e.data).toMatchObject({ period: '2026-03', points: 0, periodPoints: 200, balance: 1000 })
    expect((await postRewards(db, { from: '2026-03', now: APRIL_10 }))[0]!.entries).toBe(0)
  })

  test('the ledger is append-only', async () => {
    await expect(db.query(`UPDATE reward_ledger SET points = points + 1 WHERE uprn = $1`, [U.A])).rejects.toThrow(/append-only/)
    await expect(db.query(`DELETE FROM reward_ledger WHERE uprn = $1`, [U.A])).rejects.toThrow(/append-only/)
  })

  test('a month is posted only once it is over; the lift at 00:30 BST on 1 April is April\'s', async () => {
    await expect(postRewards(db, { from: '2026-04', now: APRIL_10 })).rejects.toThrow(RewardPeriodError)
    await postRewards(db, { from: '2026-04', now: new Date('2026-05-02T09:00:00Z') })
    // A new scheme year for the council's rules (April): 3 kg × 5.5 = 16.5 → 16, 1 bin × 2 = 2.
    expect(await entries(U.A, '2026-04')).toEqual([
      { rule: 'recycled_weight', kind: 'award', points: 16 },
      { rule: 'presentation', kind: 'award', points: 2 },
    ])
  })
})

describe('the scheduled job', () => {
  test('posts last month once a day; a second run that day is skipped, a later one adds nothing', async () => {
    const scheduler = startScheduler({ db, logger: silentLogger, registry: new Registry(), timezone: 'Europe/London', jobs: [rewardsJob], autostart: false })
    try {
      const may3 = await scheduler.runNow('rewards', new Date('2026-05-03T05:15:00Z'))
      expect(may3).toMatchObject({ status: 'done', detail: { period: '2026-04', entries: 0 } })
      expect((await scheduler.runNow('rewards', new Date('2026-05-03T09:00:00Z'))).status).toBe('skipped')
      await lift(db, U.C, 'C-rec', '2026-04-14T08:00:00Z', 'collected', 10.0)
      const may4 = await scheduler.runNow('rewards', new Date('2026-05-04T05:15:00Z'))
      // 10 kg × 5.5 = 55, 1 bin × 2 = 2: late data is picked up for as long as May lasts.
      expect(may4).toMatchObject({ status: 'done', detail: { period: '2026-04', entries: 2, points: 57 } })
    } finally {
      scheduler.stop()
    }
  })
})

describe('ward leaderboard', () => {
  test('points and kg per ward, ranked by points per household, with no personal data', async () => {
    const board = await wardLeaderboard(db, '2026-03')
    // North: A 376 + B 8 + C 118 + D 2 = 504 over 5 households (G included) = 100.8; 58.3 + 5 + 20 = 83.3 kg.
    // South: E 200 + F 0 over 2 households = 100; E's 125 kg.
    expect(board).toEqual({
      period: '2026-03', minHouseholds: 2, suppressedWards: 0,
      wards: [
        { rank: 1, ward: 'North', households: 5, participating: 4, totalPoints: 504, averagePoints: 100.8, recycledKg: 83.3, recycledKgPerHousehold: 16.66 },
        { rank: 2, ward: 'South', households: 2, participating: 2, totalPoints: 200, averagePoints: 100, recycledKg: 125, recycledKgPerHousehold: 62.5 },
      ],
    })
    const text = JSON.stringify(board)
    for (const uprn of Object.values(U)) expect(text).not.toContain(String(uprn))
    expect(text).not.toMatch(/Test Road|CRM-/)
  })

  test('a ward with fewer households with entries than the threshold is not listed', async () => {
    // January: only E (South) has entries.
    expect(await wardLeaderboard(db, '2026-01')).toEqual({ period: '2026-01', minHouseholds: 2, wards: [], suppressedWards: 1 })
  })
})
