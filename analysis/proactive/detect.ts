// Proactive miss detection: find the bins the crew has missed as soon as the round's evidence shows
// it, before the resident calls. Each run looks at the collections due on the last few days whose
// round has started (evidence.ts) and, per collection:
//
//   a lift or crew exception of the bin on its day   an open suspected/confirmed miss is WITHDRAWN, with
//                                                    the reason (late data; the withdrawal stays visible);
//   a lift after its day                             an open miss is RESOLVED (the return visit emptied it);
//   nothing logged, and the crew has passed it (a later stop served) or the round is over: the evidence
//   rule holds — unless the bin's sensor says it was not put out or was emptied after all, which
//   withdraws (or never raises) it. It is raised as SUSPECTED with a confidence (confidence.ts) and
//   CONFIRMED once the confidence reaches CONFIRM_AT: the return collection opens on the contractor's
//   list, due as a reported miss would be (the contract's rectification working days, window.ts), and
//   "missed collection confirmed" goes to the CRM through the outbox.
//
// Every run reads afresh and writes only changes, so running twice at the same instant changes nothing.
import type { Database } from '../../storage/database.ts'
import { confirmMisses, resolveMisses, upsertSuspected, withdrawMisses, type Confirmation, type MissFacts } from '../../storage/proactive.ts'
import { addDays } from '../calendar/dates.ts'
import { timeOnDay } from '../first-contact/advice.ts'
import { rectifyDeadline } from '../first-contact/window.ts'
import { ukDate } from '../outcomes/local-time.ts'
import { CONFIRM_AT, confidenceOf, readBaselines, sensorVerdict, type Basis } from './confidence.ts'
import { readEvidence, readSensorEvidence, SECTION_RUN, type EvidenceRow, type SensorEvidence } from './evidence.ts'

export interface DetectOptions {
  now: Date
  /** Due days before today still looked at (late rounds, late data); default 2. */
  daysBack?: number
  /** Override the confirmation threshold (the benchmark sweeps it). */
  confirmAt?: number
}

export interface DetectReport {
  from: string
  to: string
  candidates: number
  raised: number
  refreshed: number
  confirmed: number
  crmEvents: number
  withdrawn: number
  resolved: number
  ms: number
}

const OPEN = new Set(['suspected', 'confirmed'])

export async function detectMisses(db: Database, o: DetectOptions): Promise<DetectReport> {
  const t0 = performance.now()
  const { now } = o
  const confirmAt = o.confirmAt ?? CONFIRM_AT
  const today = ukDate(now)
  const from = addDays(today, -(o.daysBack ?? 2))
  const rows = await readEvidence(db, from, today, now)
  const baselines = await readBaselines(db, today, from)
  const isCandidate = (r: EvidenceRow) => r.silent && (r.passed || r.over) && !r.laterLiftAt
  const sensors = await readSensorEvidence(db, rows.filter(isCandidate), now)
  const terms = await rectifyDays(db, [...new Set(rows.map((r) => r.contractId))])

  const suspected: MissFacts[] = []
  const confirmations: Confirmation[] = []
  const withdrawals: { collectionId: number; reason: string }[] = []
  const resolutions: { collectionId: number; at: Date; reason: string }[] = []
  for (const r of rows) {
    const open = r.status !== null && OPEN.has(r.status)
    if (r.status !== null && !open) continue // withdrawn and resolved are final
    if (r.liftedAt || r.exceptionCode) {
      if (open) withdrawals.push({ collectionId: r.collectionId, reason: r.liftedAt ? `a lift of the bin at ${timeOnDay(r.liftedAt)} was recorded` : `the crew logged ${r.exceptionCode} at ${timeOnDay(r.exceptionAt!)}` })
      continue
    }
    if (r.laterLiftAt) {
      if (open) resolutions.push({ collectionId: r.collectionId, at: r.laterLiftAt, reason: `emptied at ${timeOnDay(r.laterLiftAt)}` })
      continue
    }
    if (!isCandidate(r)) continue
    const sensor = sensors.get(r.collectionId)
    const verdict = sensorVerdict(r.hasSensor, sensor)
    if (verdict === 'not_out' || verdict === 'emptied') {
      if (open) withdrawals.push({ collectionId: r.collectionId, reason: verdict === 'not_out' ? 'the bin\'s sensor shows it was not put out' : 'the bin\'s sensor shows it was emptied' })
      continue
    }
    const basis: Basis = !r.passed ? 'round_not_reached' : (r.runLength ?? 1) >= SECTION_RUN ? 'section_skipped' : 'passed_by'
    const c = confidenceOf(baselines, { basis, stream: r.stream, roundId: r.roundId, dueDate: r.dueDate, assisted: r.assisted, sensor: verdict })
    const facts: MissFacts = {
      collectionId: r.collectionId, uprn: r.uprn, stream: r.stream, roundId: r.roundId, contractId: r.contractId, dueDate: r.dueDate, binId: r.binId,
      basis, sensor: verdict, confidence: c.confidence,
      evidence: {
        basis, why: c.why, position: r.position, stopOnRound: r.rn, reachedUpTo: r.reachedRn, runLength: r.runLength,
        passedAt: r.passAt?.toISOString() ?? null, roundOverAt: r.overAt.toISOString(), roundOver: r.over,
        notOutShare: c.notOutShare, expectedSilent: c.expectedSilent, observedSilent: c.observedSilent, assisted: r.assisted,
        sensor: sensorEvidence(verdict, sensor),
      },
    }
    if (c.confidence >= confirmAt && r.status !== 'confirmed') {
      confirmations.push({ ...facts, returnDue: rectifyDeadline(now, terms.get(r.contractId) ?? 1), missedAt: r.passAt ?? r.overAt, source: 'proactive' })
    } else {
      suspected.push(facts)
    }
  }

  const raisedBefore = new Set(rows.filter((r) => r.status !== null).map((r) => r.collectionId))
  const refreshed = await upsertSuspected(db, suspected, now)
  const { confirmed, crmEvents } = await confirmMisses(db, confirmations, now)
  const withdrawn = await withdrawMisses(db, withdrawals, now)
  const resolved = await resolveMisses(db, resolutions, now)
  const raised = [...suspected, ...confirmations].filter((m) => !raisedBefore.has(m.collectionId)).length
  return {
    from, to: today, candidates: rows.filter(isCandidate).length, raised, refreshed: refreshed - suspected.filter((m) => !raisedBefore.has(m.collectionId)).length,
    confirmed, crmEvents, withdrawn, resolved, ms: Math.round(performance.now() - t0),
  }
}

function sensorEvidence(verdict: string, s: SensorEvidence | undefined) {
  if (!s) return { verdict }
  return { verdict, readings: s.readings, outSeen: s.outSeen, fillBefore: s.fillBefore, minFillAfter: s.minFillAfter, lastFill: s.lastFill, lastAt: s.lastAt?.toISOString() ?? null }
}

async function rectifyDays(db: Database, contractIds: string[]): Promise<Map<string, number>> {
  if (contractIds.length === 0) return new Map()
  const { rows } = await db.query<{ id: string; days: number }>(`SELECT contract_id AS id, rectify_working_days AS days FROM contracts WHERE contract_id = ANY($1::text[])`, [contractIds])
  return new Map(rows.map((r) => [r.id, r.days]))
}
