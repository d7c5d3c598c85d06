// Proactive miss detection against the simulator's ground truth, shared by the test
// (proactive-ground-truth.test.ts) and the benchmark (bench/proactive.ts).
//
// The detection job runs as the scheduler would, every `tickMinutes` of simulated time through each
// day (only the evidence up to that instant is read), over a city whose device messages are all in the
// database. Then every collection of the truth is looked at:
//   genuine miss   the resident put the bin out and the contractor did not lift it on the day (the
//                  truth's missCause: passed, street skipped, breakdown, round unfinished);
//   detected       confirmed (return opened, CRM told) before the first resident report about it — or
//                  at all, when nobody reported it;
//   false positive confirmed, and not a genuine miss (the bin was not out, or was emptied, or refused).
// Figures: recall = detected / genuine; false-discovery share = false positives / confirmed (what a
// council means by "we told residents about misses that were not"); the textbook false-positive rate
// = false positives / collections that were not misses. The same at the `suspected` tier.
import { addDays } from '../../../analysis/calendar/dates.ts'
import { detectMisses, type DetectReport } from '../../../analysis/proactive/detect.ts'
import { ukInstant } from '../../../analysis/outcomes/local-time.ts'
import type { CollectionTruth, MissCause } from '../../../simulators/truth/records.ts'
import type { Database } from '../../../storage/database.ts'
import type { SimulatedCity } from '../../helpers/simulated-city.ts'

export interface DetectionRun { runs: number; msPerRun: number[]; last: DetectReport | null }

/** Run the detection every `tickMinutes` from 07:00 to 22:00 UK time and once at 23:50, each day from `from` to `to`. */
export async function runDetection(db: Database, o: { from: string; to: string; tickMinutes: number; endMs: number; confirmAt?: number }): Promise<DetectionRun> {
  const out: DetectionRun = { runs: 0, msPerRun: [], last: null }
  for (let day = o.from; day <= o.to; day = addDays(day, 1)) {
    const minutes: number[] = []
    for (let m = 7 * 60; m <= 22 * 60; m += o.tickMinutes) minutes.push(m)
    minutes.push(23 * 60 + 50)
    for (const m of minutes) {
      const now = ukInstant(day, m)
      if (now.getTime() > o.endMs) return out
      const report = await detectMisses(db, { now, confirmAt: o.confirmAt })
      out.runs++
      out.msPerRun.push(report.ms)
      out.last = report
    }
  }
  return out
}

interface StoredMiss { uprn: number; stream: string; dueDate: string; status: string; basis: string; sensor: string; confidence: number; raisedAt: Date; confirmedAt: Date | null; withdrawnAt: Date | null }

export interface TierFigures {
  genuine: number
  detectedBeforeReport: number
  recall: number
  flagged: number
  falsePositives: number
  falseDiscoveryShare: number
  falsePositiveRate: number
}

export interface Evaluation {
  collections: number
  reportedGenuine: number
  confirmed: TierFigures
  suspected: TierFigures
  /** Recall of the confirmed tier by miss cause, and for bins with and without a sensor. */
  byCause: Record<string, { genuine: number; detected: number }>
  bySensor: Record<'sensor' | 'no_sensor', { genuine: number; detected: number }>
  /** False positives of the confirmed tier by what really happened and by basis. */
  falseByTruth: Record<string, number>
  falseByBasis: Record<string, number>
  withdrawn: number
  /** Of genuine misses the residents reported: the median minutes from confirmation to the first report. */
  leadMinutesMedian: number | null
}

const isGenuine = (c: CollectionTruth) => c.presented && c.missCause !== null && c.exception === null

export async function evaluate(db: Database, sim: SimulatedCity, o: { from: string; to: string; sensorBins: ReadonlySet<string> }): Promise<Evaluation> {
  const { rows } = await db.query<StoredMiss>(
    `SELECT uprn, stream, due_date AS "dueDate", status, basis, sensor, confidence, raised_at AS "raisedAt", confirmed_at AS "confirmedAt", withdrawn_at AS "withdrawnAt"
       FROM proactive_misses WHERE due_date BETWEEN $1::date AND $2::date`, [o.from, o.to],
  )
  const stored = new Map(rows.map((r) => [`${r.uprn}|${r.stream}|${r.dueDate}`, r]))
  const truth = [...sim.truth.collections.values()].filter((c) => c.dueDate >= o.from && c.dueDate <= o.to)
  const tier = (at: (m: StoredMiss) => Date | null) => {
    const f: TierFigures = { genuine: 0, detectedBeforeReport: 0, recall: 0, flagged: 0, falsePositives: 0, falseDiscoveryShare: 0, falsePositiveRate: 0 }
    let negatives = 0
    for (const c of truth) {
      const m = stored.get(`${c.uprn}|${c.stream}|${c.dueDate}`)
      const when = m ? at(m) : null
      if (when) f.flagged++
      if (isGenuine(c)) {
        f.genuine++
        if (when && (c.firstReportAt === null || when.getTime() < Date.parse(c.firstReportAt))) f.detectedBeforeReport++
      } else {
        negatives++
        if (when) f.falsePositives++
      }
    }
    f.recall = f.genuine ? f.detectedBeforeReport / f.genuine : NaN
    f.falseDiscoveryShare = f.flagged ? f.falsePositives / f.flagged : 0
    f.falsePositiveRate = negatives ? f.falsePositives / negatives : 0
    return f
  }
  const ev: Evaluation = {
    collections: truth.length, reportedGenuine: truth.filter((c) => isGenuine(c) && c.firstReportAt).length,
    confirmed: tier((m) => m.confirmedAt), suspected: tier((m) => m.raisedAt),
    byCause: {}, bySensor: { sensor: { genuine: 0, detected: 0 }, no_sensor: { genuine: 0, detected: 0 } }, falseByTruth: {}, falseByBasis: {},
    withdrawn: rows.filter((r) => r.withdrawnAt).length, leadMinutesMedian: null,
  }
  const leads: number[] = []
  for (const c of truth) {
    const m = stored.get(`${c.uprn}|${c.stream}|${c.dueDate}`)
    const detected = !!m?.confirmedAt && (c.firstReportAt === null || m.confirmedAt.getTime() < Date.parse(c.firstReportAt))
    if (isGenuine(c)) {
      const cause = ev.byCause[c.missCause as MissCause] ??= { genuine: 0, detected: 0 }
      const sensor = ev.bySensor[o.sensorBins.has(c.binId) ? 'sensor' : 'no_sensor']
      cause.genuine++
      sensor.genuine++
      if (detected) { cause.detected++; sensor.detected++ }
      if (m?.confirmedAt && c.firstReportAt) leads.push((Date.parse(c.firstReportAt) - m.confirmedAt.getTime()) / 60_000)
    } else if (m?.confirmedAt) {
      const what = c.outcome === 'not_presented' ? `not_presented${c.exception ? '' : ' (not logged)'}` : c.outcome
      ev.falseByTruth[what] = (ev.falseByTruth[what] ?? 0) + 1
      ev.falseByBasis[m.basis] = (ev.falseByBasis[m.basis] ?? 0) + 1
    }
  }
  leads.sort((a, b) => a - b)
  ev.leadMinutesMedian = leads.length ? Math.round(leads[Math.floor(leads.length / 2)]!) : null
  return ev
}
