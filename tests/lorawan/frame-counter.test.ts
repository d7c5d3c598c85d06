// Frame counters → seq across duplicates, retries and re-joins (ingest/lorawan/frame-counter.ts).
// `run` applies uplinks one after another and keeps the sessions as storage does: the latest
// session's highest FCnt and time follow its stored readings; a session is written when it opens.
import { expect, test } from 'vitest'
import { mapFrameCounter, mapJoin, type Session } from '../../ingest/lorawan/frame-counter.ts'

function run(uplinks: [fCnt: number, t: number][], start: Session[] = []): { seqs: (number | string)[]; sessions: Session[] } {
  const sessions = start.map((s) => ({ ...s }))
  const seqs: (number | string)[] = []
  for (const [fCnt, t] of uplinks) {
    const m = mapFrameCounter(sessions, fCnt, t)
    if (!m.ok) { seqs.push('refused'); continue }
    seqs.push(m.seq)
    if (m.write) {
      const i = sessions.findIndex((s) => s.sessionNo === m.write!.session.sessionNo)
      if (i >= 0) sessions[i] = m.write.session
      else sessions.push(m.write.session)
    }
    const s = sessions.find((x) => x.sessionNo === m.sessionNo)!
    s.maxFCnt = Math.max(s.maxFCnt, fCnt)
    s.lastReceivedAt = Math.max(s.lastReceivedAt, t)
  }
  return { seqs, sessions }
}

test('counting up: seq = FCnt in the first session', () => {
  expect(run([[5, 100], [6, 200], [7, 300]]).seqs).toEqual([5, 6, 7])
})

test('a copy of an uplink (two gateways, a retry) maps to the same seq, even after later uplinks', () => {
  expect(run([[5, 100], [5, 100], [6, 200], [5, 100]]).seqs).toEqual([5, 5, 6, 5])
})

test('a frame-counter reset after a re-join continues the seq above the old session; copies of either session stay put', () => {
  const { seqs, sessions } = run([[40, 100], [41, 200], [0, 300], [1, 400], [0, 300], [41, 200], [2, 500]])
  expect(seqs).toEqual([40, 41, 42, 43, 42, 41, 44])
  expect(sessions.map((s) => [s.sessionNo, s.seqBase, s.reason])).toEqual([[1, 0, 'first'], [2, 42, 'f_cnt_reset']])
})

test('after a reset, an uplink that arrives late but was sent first still belongs to the new session', () => {
  const { seqs, sessions } = run([[40, 100], [1, 400], [0, 300], [2, 500]])
  expect(seqs).toEqual([40, 42, 41, 43])
  expect(sessions[1]).toMatchObject({ sessionNo: 2, startedAt: 300, seqBase: 41 })
})

test('uplinks lost right after a re-join leave a gap in seq, as they should', () => {
  expect(run([[10, 100], [0, 200], [3, 300]]).seqs).toEqual([10, 11, 14])
})

test('a late uplink of the earlier session that fits below the new session keeps its seq; one that would overlap is refused with the reason', () => {
  const { seqs } = run([[10, 100], [12, 300], [0, 400], [11, 200], [13, 350]])
  expect(seqs).toEqual([10, 12, 13, 11, 'refused'])
})

test('a join opens the session before its uplinks; a repeated join, or one whose uplinks came first, opens none', () => {
  const { sessions } = run([[7, 100], [8, 200]])
  const joined = mapJoin(sessions, 250)
  expect(joined).toMatchObject({ session: { sessionNo: 2, seqBase: 9, maxFCnt: -1, reason: 'join' }, closing: { sessionNo: 1, maxFCnt: 8 } })
  const withJoin = [...sessions, joined!.session]
  expect(mapJoin(withJoin, 250)).toBeNull()
  expect(run([[0, 260], [1, 270]], withJoin).seqs).toEqual([9, 10])
  // Uplink first, then the join event of the same re-join: the session is marked as a join.
  const { sessions: s2 } = run([[7, 100], [0, 300]])
  expect(mapJoin(s2, 290)).toMatchObject({ session: { sessionNo: 2, reason: 'join' } })
})
