// The ground truth in memory, and as a JSONL file: a `meta` line, then the records (collections,
// reports, readings, bin-full, fire, offline, breakdown, street-skipped, unfinished), then a `summary`.
import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import type {
  BinFullTruth, BreakdownTruth, CollectionTruth, FireTruth, MessageKindCount, MetaTruth, OfflineTruth, ReadingTruth,
  ReportTruth, StreetSkipTruth, SummaryTruth, TruthRecord, UnfinishedTruth,
} from './records.ts'
import { emptyCount } from './records.ts'

export type TruthMessageKind = keyof MessageKindCount

export class GroundTruth {
  meta: MetaTruth | null = null
  /** Keyed by `${uprn}|${stream}|${scheduledDate}`, as scheduled_collections is unique on those. */
  readonly collections = new Map<string, CollectionTruth>()
  readonly reports: ReportTruth[] = []
  readonly readings: ReadingTruth[] = []
  readonly binFull: BinFullTruth[] = []
  readonly fires: FireTruth[] = []
  readonly offline: OfflineTruth[] = []
  readonly breakdowns: BreakdownTruth[] = []
  readonly streetsSkipped: StreetSkipTruth[] = []
  readonly unfinished: UnfinishedTruth[] = []
  readonly generated = emptyCount()
  readonly acknowledged = emptyCount()
  readonly byDevice = new Map<string, MessageKindCount>()
  lostSeqs = 0

  constructor(readonly keepReadings = true) {}

  static key(uprn: number, stream: string, scheduledDate: string): string {
    return `${uprn}|${stream}|${scheduledDate}`
  }

  collection(uprn: number, stream: string, scheduledDate: string): CollectionTruth | undefined {
    return this.collections.get(GroundTruth.key(uprn, stream, scheduledDate))
  }

  /** Count a message the broker acknowledged. */
  acked(deviceId: string, kind: TruthMessageKind): void {
    this.acknowledged[kind]++
    let d = this.byDevice.get(deviceId)
    if (!d) this.byDevice.set(deviceId, (d = emptyCount()))
    d[kind]++
  }

  summary(): SummaryTruth {
    const posted = this.reports.filter((r) => r.serviceRequestId !== null).length
    return {
      type: 'summary',
      generated: { ...this.generated },
      acknowledged: { ...this.acknowledged },
      byDevice: Object.fromEntries([...this.byDevice].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      lostSeqs: this.lostSeqs,
      reports: { made: this.reports.length, posted, failed: this.reports.filter((r) => r.error !== null).length },
    }
  }

  *records(): Generator<TruthRecord> {
    if (this.meta) yield this.meta
    const collections = [...this.collections.values()].sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.roundId < b.roundId ? -1 : a.roundId > b.roundId ? 1 : a.uprn - b.uprn))
    yield* collections
    yield* this.reports
    yield* this.readings
    yield* this.binFull
    yield* this.fires
    yield* this.offline
    yield* this.breakdowns
    yield* this.streetsSkipped
    yield* this.unfinished
    yield this.summary()
  }

  /** Write the JSONL file (streamed, so a large city does not build one huge string). */
  async writeJsonl(path: string): Promise<number> {
    const out = createWriteStream(path, { encoding: 'utf8' })
    let lines = 0
    for (const r of this.records()) {
      if (!out.write(`${JSON.stringify(r)}\n`)) await once(out, 'drain')
      lines++
    }
    out.end()
    await once(out, 'finish')
    return lines
  }
}

export class TruthFileError extends Error {
  override name = 'KERBSIDE_ERR_TRUTH_FILE'
}

/** Read a ground-truth JSONL file back into memory (the acknowledged counts come from its summary). */
export async function readGroundTruth(path: string): Promise<GroundTruth & { fileSummary: SummaryTruth | null }> {
  const truth = Object.assign(new GroundTruth(true), { fileSummary: null as SummaryTruth | null })
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity })
  let n = 0
  for await (const line of lines) {
    n++
    if (line.trim() === '') continue
    let r: TruthRecord
    try {
      r = JSON.parse(line) as TruthRecord
    } catch (err) {
      throw new TruthFileError(`${path} line ${n}: ${(err as Error).message}`)
    }
    switch (r.type) {
      case 'meta': truth.meta = r; break
      case 'collection': truth.collections.set(GroundTruth.key(r.uprn, r.stream, r.scheduledDate), r); break
      case 'report': truth.reports.push(r); break
      case 'reading': truth.readings.push(r); break
      case 'bin-full': truth.binFull.push(r); break
      case 'fire': truth.fires.push(r); break
      case 'offline': truth.offline.push(r); break
      case 'breakdown': truth.breakdowns.push(r); break
      case 'street-skipped': truth.streetsSkipped.push(r); break
      case 'unfinished': truth.unfinished.push(r); break
      case 'summary': {
        truth.fileSummary = r
        Object.assign(truth.generated, r.generated)
        Object.assign(truth.acknowledged, r.acknowledged)
        for (const [id, c] of Object.entries(r.byDevice)) truth.byDevice.set(id, c)
        truth.lostSeqs = r.lostSeqs
        break
      }
      default: throw new TruthFileError(`${path} line ${n}: unknown record type ${JSON.stringify((r as { type?: unknown }).type)}`)
    }
  }
  return truth
}
