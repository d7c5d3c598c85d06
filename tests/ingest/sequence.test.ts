import { expect, test } from 'vitest'
import { gapFor, LEAD_IN, planSequence } from '../../ingest/sequence.ts'

const m = (seq: number, tsMs = seq * 1000) => ({ seq, tsMs })

test('fresh messages in any order advance the sequence; jumps open gaps', () => {
  const plan = planSequence(10, [m(14), m(11), m(12)])
  expect(plan.fresh.map((x) => x.seq)).toEqual([11, 12, 14])
  expect(plan.newGaps).toEqual([{ afterSeq: 12, beforeSeq: 14, missing: 1 }])
  expect(plan.advanced).toEqual({ seq: 14, tsMs: 14_000 })
  expect(plan.late).toEqual([])
})

test('a device seen for the first time opens a lead-in below its first message, not a loss', () => {
  const plan = planSequence(null, [m(500), m(501)])
  expect(plan.newGaps).toEqual([{ afterSeq: -1, beforeSeq: 500, missing: 500, leadIn: true }])
  expect(plan.fresh).toHaveLength(2)
  // bounded: a device that starts counting high is not waited for all the way down
  expect(planSequence(null, [m(5000)]).newGaps).toEqual([{ afterSeq: 5000 - LEAD_IN - 1, beforeSeq: 5000, missing: LEAD_IN, leadIn: true }])
  // a device that starts at 0 has nothing below it
  expect(planSequence(null, [m(0), m(1)]).newGaps).toEqual([])
})

test('seqs at or below the stored maximum are late; repeats within a batch too', () => {
  const plan = planSequence(10, [m(9), m(10), m(11), m(11)])
  expect(plan.late.map((x) => x.seq)).toEqual([9, 10, 11])
  expect(plan.fresh.map((x) => x.seq)).toEqual([11])
})

test('late seqs are matched to open gaps only', () => {
  const gaps = [{ afterSeq: 3, beforeSeq: 7, missing: 3 }, { afterSeq: 10, beforeSeq: 12, missing: 0 }]
  expect(gapFor(gaps, 5)).toBe(gaps[0])
  expect(gapFor(gaps, 3)).toBeUndefined()
  expect(gapFor(gaps, 11)).toBeUndefined()
})
