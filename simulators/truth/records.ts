// The ground truth of a simulation: what really happened, one record per line in a JSONL file.
// Later analyses (collection outcomes, report verdicts, contractor KPIs, fill forecasts, proactive miss
// detection) are checked against these records, so they state facts, not verdicts: a report that
// contradicts the evidence says why, and whether the data Kerbside receives can show it at all.
import type { CrewException } from '../../core/contract/messages.ts'
import type { CityStream } from '../city/city.ts'
import type { OfflineMode, SimulationBehaviour } from '../model/behaviour.ts'

/** What finally happened to a scheduled collection. */
export type TruthOutcome =
  | 'collected' // lifted on its due day by its round
  | 'collected_late' // not on the due day through the contractor's fault, lifted later without a report asking
  | 'missed' // contractor's fault, never lifted within the simulation
  | 'rectified' // missed, reported, then lifted by a return visit
  | 'crew_exception' // the crew logged an exception other than not_presented and did not empty the bin
  | 'not_presented' // the resident did not put the bin out (logged by the crew or not: see `exception`)

/** Why a presented bin was not lifted on its due day. */
export type MissCause = 'random' | 'street_skipped' | 'breakdown' | 'unfinished'

/** One lift event the vehicle units sent about a collection (an emptying or a logged exception). */
export interface LiftTruth {
  ts: string
  seq: number
  deviceId: string
  vehicleId: string
  outcome: 'collected' | CrewException
  weightKg: number | null
  lat: number
  lon: number
  /** The round on its due day, a spare finishing a round late, or a return visit after a report. */
  visit: 'round' | 'late' | 'return'
}

export interface CollectionTruth {
  type: 'collection'
  uprn: number
  stream: CityStream
  binId: string
  tag: string
  roundId: string
  vehicleId: string
  scheduledDate: string
  dueDate: string
  /** Did the resident put the bin out? */
  presented: boolean
  outcome: TruthOutcome
  /** The exception code the crew logged, if it logged one (not_presented included). */
  exception: CrewException | null
  missCause: MissCause | null
  /** Every lift event about this collection, in time order. */
  lifts: LiftTruth[]
  /** When it was emptied: on the day, late, or by the return visit. */
  collectedAt: string | null
  lateAt: string | null
  rectifiedAt: string | null
  /** First resident report about this collection, of any kind. */
  firstReportAt: string | null
}

export type ReportReason = 'genuine' | 'collected' | 'not_presented' | 'crew_exception' | 'too_early' | 'too_late' | 'not_scheduled'

export interface ReportTruth {
  type: 'report'
  /** The simulation's own number for the report (1, 2, …), in the order residents made them. */
  id: number
  /** When the resident reported (simulated time). */
  at: string
  uprn: number
  stream: CityStream
  serviceCode: string
  /** The date the resident gave as attribute[collection_date], or null when left out. */
  collectionDate: string | null
  /** The scheduled collection the report is about, or null when none was due (wrong week). */
  scheduledDate: string | null
  dueDate: string | null
  /** A valid missed-bin report: a real contractor miss, not yet put right, reported within the window. */
  genuine: boolean
  reason: ReportReason
  /**
   * Whether the telemetry can show the reason: false when the resident did not put the bin out and
   * the crew logged nothing (the data then looks like a miss).
   */
  observable: boolean
  /** The collection's state when the report was made. */
  outcomeAtReport: TruthOutcome | 'pending'
  windowOpensAt: string | null
  windowClosesAt: string | null
  /** Filled in by the runner once the API answered. */
  serviceRequestId: string | null
  postedAt: string | null
  httpStatus: number | null
  error: string | null
}

export interface ReadingTruth {
  type: 'reading'
  deviceId: string
  binId: string
  seq: number
  ts: string
  /** The bin's real fill (may exceed 100 when overflowing) and what the sensor reported. */
  trueFillPct: number
  fillPct: number
  status: string
  tempC: number
  batteryV: number
  /** Sent at once, held while offline and sent on reconnect, or lost. */
  delivery: 'sent' | 'buffered' | 'lost'
}

/** A sensor bin's real level reached its capacity (forecasts of "full by" are checked against this). */
export interface BinFullTruth { type: 'bin-full'; deviceId: string; binId: string; at: string }
export interface FireTruth { type: 'fire'; deviceId: string; binId: string; uprn: number; startAt: string; endAt: string; peakTempC: number }
export interface OfflineTruth { type: 'offline'; deviceId: string; from: string; to: string; mode: OfflineMode; bufferedSeqs: number[]; lostSeqs: number[] }
export interface BreakdownTruth { type: 'breakdown'; vehicleId: string; roundId: string; date: string; at: string; lat: number; lon: number; stopsLeft: number; recovery: 'next_day' | 'missed' }
export interface StreetSkipTruth { type: 'street-skipped'; roundId: string; vehicleId: string; date: string; street: string; households: number }
export interface UnfinishedTruth { type: 'unfinished'; roundId: string; vehicleId: string; date: string; at: string; stopsLeft: number }

export type MessageKindCount = { reading: number; lift: number; position: number; status: number }

export interface SummaryTruth {
  type: 'summary'
  /** Messages the devices generated (lost ones included), and those the broker acknowledged. */
  generated: MessageKindCount
  acknowledged: MessageKindCount
  /** Acknowledged messages per device. */
  byDevice: Record<string, MessageKindCount>
  lostSeqs: number
  reports: { made: number; posted: number; failed: number }
}

export interface MetaTruth {
  type: 'meta'
  seed: number
  households: number
  start: string
  end: string
  behaviour: SimulationBehaviour
  /** Report window rule used for `genuine` (see the contract): opens on the due day at this hour, closes after N working days. */
  reportWindow: { opensHour: number; workingDays: number }
}

export type TruthRecord =
  | MetaTruth | CollectionTruth | ReportTruth | ReadingTruth | BinFullTruth | FireTruth | OfflineTruth
  | BreakdownTruth | StreetSkipTruth | UnfinishedTruth | SummaryTruth

export const emptyCount = (): MessageKindCount => ({ reading: 0, lift: 0, position: 0, status: 0 })
