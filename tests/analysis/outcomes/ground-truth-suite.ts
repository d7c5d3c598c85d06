// The collection outcomes and the first-contact verdicts against the simulator's ground truth.
//
// A seeded city runs for some weeks with known miss rates — the default crew (contractor misses,
// street skips, breakdowns, unfinished rounds), one round with a bad crew that misses 3 % of bins and
// is slow to return — and its device messages are loaded through ingest's write path (writeBatch; see
// tests/helpers/simulated-city.ts, without the broker). Residents' reports are filed in time order as
// the Open311 route files them (stored, judged by the assessor as the evidence stood when each was made,
// verdict recorded), then every collection is classified as of the end of the run and the reports
// settled. Outcomes and verdicts must agree with the truth wherever the truth can be seen in the data;
// truth-expectations.ts says exactly which cannot, and those are counted and left out.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import { addDays } from '../../../analysis/calendar/dates.ts'
import { createReportAssessor } from '../../../analysis/first-contact/assess-report.ts'
import { classifyOutcomes } from '../../../analysis/outcomes/classify.ts'
import { settleReports } from '../../../analysis/outcomes/reports-sync.ts'
import type { CollectionTruth, ReportTruth } from '../../../simulators/truth/records.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { createReport, setReportVerdict } from '../../../storage/reports.ts'
import { loadSimulatedCity, type SimulatedCity } from '../../helpers/simulated-city.ts'
import { expectedOutcome, genuineReportsByCollection, verdictMatches, WorkingDays, type ExpectedOutcome } from './truth-expectations.ts'

export interface GroundTruthOptions { households: number; seed: number; start: string; weeks: number }

interface StoredOutcome { uprn: number; stream: string; scheduledDate: string; outcome: string; exceptionCode: string | null; firstReportId: number | null }
interface StoredVerdict { verdict: string; windowSide: string | null; exception: { code: string } | null }

export function groundTruthSuite(o: GroundTruthOptions): void {
  const days = o.weeks * 7
  let db: Database
  let sim: SimulatedCity
  let badRound = ''
  const filed: { truth: ReportTruth; id: number }[] = []
  let outcomes = new Map<string, StoredOutcome>()
  let verdicts = new Map<number, StoredVerdict & { validity: string; status: string }>()

  beforeAll(async () => {
    db = await openDatabase({ logger: silentLogger })
    sim = await loadSimulatedCity(db, {
      city: { seed: o.seed, households: o.households, start: o.start, sensorShare: 0.02 },
      days,
      behaviour: (city) => {
        badRound = city.rounds.find((r) => r.stream === 'residual')!.roundId
        return { sensors: { readingIntervalS: 4 * 3600 }, vehicles: { positionIntervalS: 60 }, crewByRound: { [badRound]: { missRate: 0.03, rectifyOnTime: 0.5 } } }
      },
    })
    const assess = createReportAssessor(db)
    for (const { report: r, form } of sim.reports) {
      const { report } = await createReport(db, {
        serviceCode: r.serviceCode, stream: r.stream, uprn: r.uprn, collectionDate: form['attribute[collection_date]'] ?? null,
        locatedBy: 'uprn', source: 'simulation', requestedAt: new Date(r.at), description: form.description,
      })
      await setReportVerdict(db, report.id, { ...(await assess(report)), at: new Date(r.at) })
      filed.push({ truth: r, id: report.id })
    }
    const end = new Date(sim.endMs)
    await classifyOutcomes(db, { from: o.start, to: addDays(o.start, days - 1), now: end })
    await settleReports(db, end)

    const { rows } = await db.query<StoredOutcome>(
      `SELECT o.uprn, o.stream, sc.scheduled_date AS "scheduledDate", o.outcome, o.exception_code AS "exceptionCode", o.first_report_id AS "firstReportId"
         FROM collection_outcomes o JOIN scheduled_collections sc USING (collection_id)`,
    )
    outcomes = new Map(rows.map((r) => [`${r.uprn}|${r.stream}|${r.scheduledDate}`, r]))
    const { rows: reports } = await db.query<StoredVerdict & { id: number; validity: string; status: string }>(
      `SELECT report_id AS id, validity, status, verdict->>'verdict' AS verdict, verdict->>'windowSide' AS "windowSide", verdict->'exception' AS exception FROM missed_reports`,
    )
    verdicts = new Map(reports.map((r) => [r.id, r]))
  }, 1_800_000)
  afterAll(async () => { await db?.close() })

  describe(`${o.households.toLocaleString('en-GB')} households over ${o.weeks} weeks from ${o.start}`, () => {
    test('the city ran: collections, lifts, misses of every kind, and reports', () => {
      const truth = [...sim.truth.collections.values()]
      const count = (f: (c: CollectionTruth) => boolean) => truth.filter(f).length
      expect(sim.stored.lift).toBeGreaterThan(o.households * o.weeks)
      expect(count((c) => c.outcome === 'missed')).toBeGreaterThan(0)
      expect(count((c) => c.outcome === 'rectified')).toBeGreaterThan(0)
      expect(count((c) => c.outcome === 'collected_late')).toBeGreaterThan(0)
      expect(count((c) => c.outcome === 'crew_exception')).toBeGreaterThan(0)
      expect(count((c) => c.roundId === badRound && c.missCause === 'random')).toBeGreaterThan(0)
      expect(new Set(sim.reports.map((r) => r.report.reason))).toEqual(new Set(['genuine', 'collected', 'not_presented', 'crew_exception', 'too_early', 'too_late', 'not_scheduled']))
    })

    test('every simulated collection has an outcome, and it agrees with the truth wherever the data can show it', async ({ annotate }) => {
      const work = new WorkingDays(o.start, addDays(o.start, days))
      const genuine = genuineReportsByCollection(sim.reports.map((r) => r.report))
      const tally = new Map<string, { agree: number; excluded: number }>()
      const disagreements: { key: string; truth: string; expected: ExpectedOutcome; got: Pick<StoredOutcome, 'outcome' | 'exceptionCode'> | null }[] = []
      for (const [key, c] of sim.truth.collections) {
        const t = tally.get(c.outcome) ?? { agree: 0, excluded: 0 }
        tally.set(c.outcome, t)
        const expected = expectedOutcome(c, genuine.get(key), 1, work)
        if (!expected.observable) { t.excluded++; continue }
        const got = outcomes.get(key)
        if (got && got.outcome === expected.value.outcome && got.exceptionCode === expected.value.exceptionCode) t.agree++
        else disagreements.push({ key, truth: c.outcome, expected: expected.value, got: got ? { outcome: got.outcome, exceptionCode: got.exceptionCode } : null })
      }
      await annotate([...tally].map(([k, t]) => `${k}: ${t.agree} agree${t.excluded ? `, ${t.excluded} not observable` : ''}`).join('; '))
      expect(disagreements.slice(0, 10)).toEqual([])
      // Exactly the bins not put out that the crew passed without a word are left out.
      const unlogged = [...sim.truth.collections.values()].filter((c) => c.outcome === 'not_presented' && c.exception === null).length
      expect([...tally.values()].reduce((n, t) => n + t.excluded, 0)).toBe(unlogged)
    })

    test('every report\'s verdict agrees with the truth wherever the data can show it', async ({ annotate }) => {
      const tally = new Map<string, { agree: number; excluded: number }>()
      const disagreements: { truth: string; at: string; due: string | null; got: StoredVerdict | undefined }[] = []
      for (const f of filed) {
        const t = tally.get(f.truth.reason) ?? { agree: 0, excluded: 0 }
        tally.set(f.truth.reason, t)
        if (!f.truth.observable) { t.excluded++; continue }
        const v = verdicts.get(f.id)
        if (v && verdictMatches(f.truth.reason, { verdict: v.verdict as never, windowSide: v.windowSide, exceptionCode: v.exception?.code ?? null })) t.agree++
        else disagreements.push({ truth: f.truth.reason, at: f.truth.at, due: f.truth.dueDate, got: v })
      }
      await annotate([...tally].map(([k, t]) => `${k}: ${t.agree} agree${t.excluded ? `, ${t.excluded} not observable` : ''}`).join('; '))
      expect(disagreements.slice(0, 10)).toEqual([])
      // Valid exactly when the truth says genuine (observable reports).
      for (const f of filed.filter((x) => x.truth.observable)) expect(verdicts.get(f.id)!.validity, `report ${f.truth.id}`).toBe(f.truth.genuine ? 'valid' : 'invalid')
    })

    test('reports are settled: put-right misses closed, invalid ones closed, outstanding misses still open', () => {
      for (const f of filed) {
        const v = verdicts.get(f.id)!
        if (v.validity === 'invalid') { expect(v.status).toBe('closed'); continue }
        const key = f.truth.scheduledDate ? `${f.truth.uprn}|${f.truth.stream}|${f.truth.scheduledDate}` : ''
        const outcome = outcomes.get(key)?.outcome
        const putRight = outcome === 'rectified' || outcome === 'rectified_late' || outcome === 'collected_late'
        expect(v.status, `report ${f.truth.id} (${outcome})`).toBe(putRight ? 'closed' : 'open')
      }
    })
  })
}
