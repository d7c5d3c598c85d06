// The check: a simulated city over eight weeks with known miss rates (one residual round
// with a bad crew) runs through the whole chain — device messages through ingest's write path,
// residents' reports filed and judged, every collection classified (analysis/outcomes) — and every
// contractor KPI Kerbside computes must equal the figure computed from the simulator's ground truth
// in plain TypeScript (truth-kpis.ts): for the contract, every round, every week and month, and again
// once the roll-up has stored the days. Sized by the caller: the default suite runs a small city, the
// services suite the 20,000 households of the issue.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { addDays, isoWeekday } from '../../../analysis/calendar/dates.ts'
import { contractPerformance, LEAGUE_SORTS, performanceTrends, roundLeague, type Assessment, type LeagueSort } from '../../../analysis/performance/performance.ts'
import { refreshRollup } from '../../../analysis/performance/rollup.ts'
import { whyMissed } from '../../../analysis/why-missed/why-missed.ts'
import { silentLogger } from '../../../core/log.ts'
import { createReportAssessor } from '../../../analysis/first-contact/assess-report.ts'
import { classifyOutcomes } from '../../../analysis/outcomes/classify.ts'
import { settleReports } from '../../../analysis/outcomes/reports-sync.ts'
import type { City } from '../../../simulators/city/city.ts'
import type { GroundTruth } from '../../../simulators/truth/ground-truth.ts'
import type { ReportTruth } from '../../../simulators/truth/records.ts'
import { londonDate } from '../../../simulators/time.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { createReport, setReportVerdict } from '../../../storage/reports.ts'
import { loadSimulatedCity } from '../../helpers/simulated-city.ts'
import { expectedKpis, repeatMisses, seenCollections, servingKey, servingRounds, type Expected, type SeenCollection, type Terms } from './truth-kpis.ts'

export interface GroundTruthOptions {
  households: number
  seed: number
  /** A Monday; eight weeks from it. */
  start: string
  weeks: number
  /** Miss rate of the bad crew's round (default crews miss 0.03 % of presented bins). */
  badMissRate: number
}

const FIGURES = ['scheduled', 'collected', 'collectedLate', 'crewExceptions', 'missed', 'missedReported', 'rectified', 'rectifiedLate',
  'outstanding', 'awaitingRectification', 'notRectifiedInTime', 'repeatMisses', 'returnVisits'] as const

/** Kerbside's assessment against the one computed from the truth. */
function expectSame(got: Assessment, want: Expected, what: string): void {
  for (const f of FIGURES) expect(got.figures[f], `${what}: ${f}`).toBe(want[f])
  expect(got.figures.exceptionsByCode, `${what}: exceptions by code`).toEqual(want.exceptionsByCode)
  expect(got.figures.reports, `${what}: reports`).toEqual(want.reports)
  for (const k of ['missedPer100k', 'onDayPct', 'rectifiedInTimePct', 'invalidReportPct'] as const) {
    if (want[k] === null) expect(got.figures[k], `${what}: ${k}`).toBeNull()
    else expect(got.figures[k], `${what}: ${k}`).toBeCloseTo(want[k], 9)
  }
  expect(got.points.total, `${what}: points`).toBeCloseTo(want.points, 9)
  expect(got.score, `${what}: score`).toBe(want.score)
}

export function groundTruthSuite(o: GroundTruthOptions): void {
  const days = o.weeks * 7
  const range = { from: o.start, to: addDays(o.start, days - 1) }
  let db: Database
  let city: City
  let truth: GroundTruth
  let badRound: string
  let seen: SeenCollection[]
  let reports: ReportTruth[]
  let serving: Map<string, string>
  let terms: Terms
  let now: Date

  beforeAll(async () => {
    db = await openDatabase({ logger: silentLogger })
    // The whole chain as it runs in production: device messages through ingest's write path, reports
    // filed and judged as the Open311 route does, then the outcome classifier as of the end of the run.
    const sim = await loadSimulatedCity(db, {
      city: { seed: o.seed, households: o.households, start: o.start, sensorShare: 0 },
      days,
      behaviour: (c) => {
        badRound = c.rounds.find((r) => r.stream === 'residual')!.roundId
        return { vehicles: { positionIntervalS: 300 }, crewByRound: { [badRound]: { missRate: o.badMissRate } } }
      },
    })
    city = sim.city
    truth = sim.truth
    now = new Date(sim.endMs)
    const assess = createReportAssessor(db)
    for (const { report: r, form } of sim.reports) {
      const { report } = await createReport(db, {
        serviceCode: r.serviceCode, stream: r.stream, uprn: r.uprn, collectionDate: form['attribute[collection_date]'] ?? null,
        locatedBy: 'uprn', source: 'simulation', requestedAt: new Date(r.at), description: form.description,
      })
      await setReportVerdict(db, report.id, { ...(await assess(report)), at: new Date(r.at) })
    }
    await classifyOutcomes(db, { ...range, now })
    await settleReports(db, now)

    const c = city.contract
    terms = {
      targetMissedPer100k: c.targetMissedPer100k!, targetOnDayPct: c.targetOnDayPct!, targetRectifiedPct: c.targetRectifiedPct!,
      pointsPerMiss: c.pointsPerMiss!, pointsNotRectified: c.pointsNotRectified!, repeatMultiplier: c.repeatMultiplier!, repeatWindowDays: c.repeatWindowDays!,
      pointValue: c.pointValue!, deductionCapPct: c.deductionCapPct!, monthlyPayment: c.monthlyPayment!,
    }
    seen = seenCollections(truth, c.rectifyWorkingDays)
    serving = servingRounds(city)
    // Reports count on the London day they were made, for the round serving the household's stream.
    reports = truth.reports.filter((r) => serving.has(servingKey(r.uprn, r.stream)) && londonDate(Date.parse(r.at)) >= range.from && londonDate(Date.parse(r.at)) <= range.to)
  }, 1_800_000)
  afterAll(async () => {
    await db?.close()
  })

  const contractId = () => city.contract.contractId
  const expectFor = (s: SeenCollection[], r: ReportTruth[]) => expectedKpis(s, r, repeatMisses(seen, terms.repeatWindowDays), terms, now.getTime())
  const reportDay = (r: ReportTruth) => londonDate(Date.parse(r.at))

  describe(`ground truth: ${o.households.toLocaleString('en-GB')} households over ${o.weeks} weeks`, () => {
    test('the city ran: collections, misses of every kind, reports', () => {
      expect(seen.length).toBeGreaterThan(o.households)
      const kinds = new Set(seen.map((s) => s.outcome))
      for (const k of ['collected', 'crew_exception', 'missed', 'rectified', 'collected_late'] as const) expect(kinds.has(k), k).toBe(true)
      expect(reports.length).toBeGreaterThan(0)
    })

    test('the contract: every KPI, points, deduction month by month and the score equal the truth\'s', async () => {
      const p = await contractPerformance(db, contractId(), { ...range, now })
      expectSame(p, expectFor(seen, reports), 'contract')
      expect(p.figures.pending).toBe(0)
      // Month by month: points × point value, capped at the cap % of the monthly payment.
      const months = [...new Set(seen.map((s) => s.truth.dueDate.slice(0, 7)))].sort()
      expect(p.deduction.months.map((m) => m.month)).toEqual(months)
      for (const m of p.deduction.months) {
        const want = expectFor(seen.filter((s) => s.truth.dueDate.startsWith(m.month)), []).points
        const cap = Math.round(terms.monthlyPayment * terms.deductionCapPct) / 100
        expect(m.points, m.month).toBeCloseTo(want, 9)
        expect(m.deduction, m.month).toBeCloseTo(Math.min(Math.round(want * terms.pointValue * 100) / 100, cap), 9)
      }
    })

    test('the league: every round\'s KPIs and score equal the truth\'s, and the bad crew\'s round stands out', async () => {
      const { rounds } = await roundLeague(db, contractId(), { ...range, now })
      const roundIds = [...new Set(seen.map((s) => s.truth.roundId))].sort()
      expect(rounds.map((r) => r.roundId).sort()).toEqual(roundIds)
      for (const r of rounds) {
        expectSame(r, expectFor(seen.filter((s) => s.truth.roundId === r.roundId), reports.filter((x) => serving.get(servingKey(x.uprn, x.stream)) === r.roundId)), r.roundId)
      }
      // The most misses per 100,000 and the fewest collected on the day: a known bad crew is found.
      const bad = rounds.find((r) => r.roundId === badRound)!
      expect(Math.max(...rounds.map((r) => r.figures.missedPer100k ?? 0))).toBe(bad.figures.missedPer100k)
      expect(Math.min(...rounds.map((r) => r.figures.onDayPct ?? 100))).toBe(bad.figures.onDayPct)
    })

    test('the league a page at a time: any column either way, pages that make the whole league, the contract\'s totals', async () => {
      const whole = await roundLeague(db, contractId(), { ...range, now })
      expect(whole).toMatchObject({ total: whole.rounds.length, sort: 'rank', order: 'asc', offset: 0, limit: null })
      expect(whole.rounds.map((r) => r.rank)).toEqual(whole.rounds.map((_, i) => i + 1))
      expect(whole.total).toBeGreaterThan(5)
      // The totals are the contract's own figures (the KPI cards), and the truth's.
      const p = await contractPerformance(db, contractId(), { ...range, now })
      expect(whole.totals).toEqual({ figures: p.figures, points: p.points, score: p.score, targets: p.targets })
      expectSame(whole.totals, expectFor(seen, reports), 'league totals')

      const value: Record<LeagueSort, (r: Assessment & { rank: number; name: string; stream: string }) => number | string | null> = {
        rank: (r) => r.rank, name: (r) => r.name, stream: (r) => r.stream, scheduled: (r) => r.figures.scheduled, missed: (r) => r.figures.missed,
        missedPer100k: (r) => r.figures.missedPer100k, onDayPct: (r) => r.figures.onDayPct, rectifiedInTimePct: (r) => r.figures.rectifiedInTimePct,
        points: (r) => r.points.total, score: (r) => r.score,
      }
      const byRank = new Map(whole.rounds.map((r) => [r.roundId, r]))
      for (const sort of LEAGUE_SORTS) {
        for (const order of ['asc', 'desc'] as const) {
          const all = (await roundLeague(db, contractId(), { ...range, now, sort, order })).rounds
          // The same rounds with the same figures and ranks, in the order asked for: values that
          // have one in order, the rest after them, ties in rank order.
          expect(all.map((r) => r.roundId).sort(), `${sort} ${order}`).toEqual([...byRank.keys()].sort())
          for (const r of all) expect(r, r.roundId).toEqual(byRank.get(r.roundId))
          for (let i = 1; i < all.length; i++) {
            const [a, b] = [all[i - 1]!, all[i]!]
            const [x, y] = [value[sort](a), value[sort](b)]
            const what = `${sort} ${order}: ${a.roundId} before ${b.roundId}`
            if (x === null) expect(y, what).toBeNull()
            if (x === null || y === null) continue
            const c = typeof x === 'string' ? x.localeCompare(String(y), 'en-GB') : x - (y as number)
            expect(order === 'asc' ? c <= 0 : c >= 0, what).toBe(true)
            if (c === 0) expect(a.rank, what).toBeLessThan(b.rank)
          }
          // Pages make the same list (about five of them: each page is a whole computation of the
          // league on a city of this size, so pages of 4 ran past the test's time on a large one).
          if (sort === 'rank' || sort === 'missedPer100k' || sort === 'name') {
            const paged = []
            const size = Math.max(4, Math.ceil(whole.total / 5))
            for (let offset = 0; offset < whole.total + size; offset += size) {
              const page = await roundLeague(db, contractId(), { ...range, now, sort, order, limit: size, offset })
              expect(page).toMatchObject({ total: whole.total, offset, limit: size, sort, order })
              expect(page.rounds.length).toBe(Math.max(0, Math.min(size, whole.total - offset)))
              paged.push(...page.rounds)
            }
            expect(paged, `${sort} ${order} in pages`).toEqual(all)
          }
        }
      }
      // The bottom of the league is the top the other way round.
      const bottom = await roundLeague(db, contractId(), { ...range, now, order: 'desc', limit: 3 })
      expect(bottom.rounds.map((r) => r.rank)).toEqual([whole.total, whole.total - 1, whole.total - 2])
    })

    test('weekly trends: every ISO week equals the truth\'s', async () => {
      const t = await performanceTrends(db, contractId(), { ...range, now, granularity: 'week' })
      expect(t.points).toHaveLength(o.weeks)
      for (const p of t.points) {
        expect(isoWeekday(p.from)).toBe(1)
        const inWeek = (day: string) => day >= p.from && day <= p.to
        expectSame(p, expectFor(seen.filter((s) => inWeek(s.truth.dueDate)), reports.filter((r) => inWeek(reportDay(r)))), p.period)
      }
    })

    test('once the roll-up has stored the days, the same figures come from it', async () => {
      await refreshRollup(db, { now, ensure: range })
      const p = await contractPerformance(db, contractId(), { ...range, now })
      expect(p.source).toEqual({ rolledUpDays: days, liveDays: 0 })
      expectSame(p, expectFor(seen, reports), 'contract from the roll-up')
    })

    test('why bins are missed: totals, rounds, streets, repeat households and return visits equal the truth\'s', async () => {
      const w = await whyMissed(db, contractId(), { ...range, households: 1000, rows: 100_000 }) // every street, to compare with the truth
      const want = expectFor(seen, reports)
      expect(w.total).toMatchObject({ scheduled: want.scheduled, missed: want.missed, collectedLate: want.collectedLate, crewExceptions: want.crewExceptions, returnVisits: want.returnVisits })
      const isMiss = (s: SeenCollection) => ['missed', 'rectified', 'rectified_late'].includes(s.outcome)
      for (const r of w.by.round) {
        const mine = seen.filter((s) => s.truth.roundId === r.key)
        expect([r.scheduled, r.missed], r.key).toEqual([mine.length, mine.filter(isMiss).length])
      }
      const households = new Map(city.dataset.households.map((h) => [h.uprn, h]))
      const streetOf = (s: SeenCollection) => `${households.get(s.truth.uprn)!.ward}|${households.get(s.truth.uprn)!.street}`
      const streets = new Map<string, [number, number]>()
      for (const s of seen) {
        const c = streets.get(streetOf(s)) ?? [0, 0]
        streets.set(streetOf(s), [c[0] + 1, c[1] + (isMiss(s) ? 1 : 0)])
      }
      expect(w.by.street).toHaveLength(streets.size)
      for (const s of w.by.street) expect([s.scheduled, s.missed], s.key).toEqual(streets.get(`${s.ward}|${s.key}`))
      const repeats = repeatMisses(seen, terms.repeatWindowDays)
      expect(w.repeatHouseholds.total).toBe(new Set([...repeats].map((s) => s.truth.uprn)).size)
      expect(w.returnTrips.visits).toBe(want.returnVisits)
    })
  })
}
