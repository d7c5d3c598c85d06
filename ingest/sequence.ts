// Per-device sequence bookkeeping, pure so that it can be tested on its own.
// Each device numbers its messages with a monotonic `seq`. Against the highest seq already stored:
//   seq above it      -> fresh; a jump of more than one opens a gap (messages numbered but not seen)
//   seq at or below   -> late: fills an open gap, or is an exact redelivery (duplicate),
//                        or else a sequence regression (refused; the device's counter went backwards)
// A device seen for the first time may have sent messages before its first stored one that are
// still on their way (a broker restart can reorder a queue). Its first message opens a lead-in
// gap of up to LEAD_IN seqs below it: those are accepted when they come, and are not counted as
// missing, since a device may well start counting anywhere.

export interface SeqMessage {
  seq: number
  tsMs: number
}

export interface Gap {
  afterSeq: number
  beforeSeq: number
  missing: number
  /** The window below a device's first message (see above), not a loss. */
  leadIn?: boolean
}

export const LEAD_IN = 1000

export interface SeqPlan<T> {
  fresh: T[]
  /** seq ≤ the stored maximum: decided later against open gaps and stored rows. */
  late: T[]
  newGaps: Gap[]
  /** The new highest seq and its timestamp, when any fresh message raised it. */
  advanced: { seq: number; tsMs: number } | null
}

/** Split one device's messages (any order) against the highest seq stored for it. */
export function planSequence<T extends SeqMessage>(lastSeq: number | null, messages: readonly T[]): SeqPlan<T> {
  const sorted = [...messages].sort((a, b) => a.seq - b.seq || a.tsMs - b.tsMs)
  const plan: SeqPlan<T> = { fresh: [], late: [], newGaps: [], advanced: null }
  let last = lastSeq
  for (const m of sorted) {
    if (last === null && m.seq > 0) {
      const afterSeq = Math.max(-1, m.seq - LEAD_IN - 1)
      plan.newGaps.push({ afterSeq, beforeSeq: m.seq, missing: m.seq - afterSeq - 1, leadIn: true })
    }
    if (last === null || m.seq > last) {
      if (last !== null && m.seq > last + 1) plan.newGaps.push({ afterSeq: last, beforeSeq: m.seq, missing: m.seq - last - 1 })
      plan.fresh.push(m)
      last = m.seq
      plan.advanced = { seq: m.seq, tsMs: m.tsMs }
    } else {
      plan.late.push(m)
    }
  }
  return plan
}

/** The open gap a late seq falls into, if any. */
export function gapFor(gaps: readonly Gap[], seq: number): Gap | undefined {
  return gaps.find((g) => g.missing > 0 && seq > g.afterSeq && seq < g.beforeSeq)
}
