// LoRaWAN frame counters as the device contract's per-device `seq`.
//
// A device's uplink frame counter (FCnt) starts again at 0 whenever it re-joins (OTAA) or is
// reset, while Kerbside's seq must only grow: a seq at or below the highest stored one is a
// redelivery, a gap fill, or a regression that is refused. So each device's uplinks are split into
// sessions, and seq = the session's base + FCnt, each session's base starting just above the highest
// seq of the session before it. A copy of an uplink (two gateways, a webhook retry, a replay from
// the Storage Integration) carries the same FCnt and the same network-server time, so it maps to
// the same session, the same seq and the same ts, and the pipeline recognises it as a duplicate.
//
// Which session does an uplink belong to? Its network-server time (`received_at`, ChirpStack's
// `time`) decides: an uplink later than everything seen in the current session with an FCnt at or
// below the session's highest opens a new session (the counter was reset; a join event opens one
// too); an uplink earlier than the current session's start belongs to the session that was current
// then. Pure, so that it can be tested on its own; storage/lorawan-devices.ts keeps the sessions.

export type SessionReason = 'first' | 'join' | 'f_cnt_reset'

export interface Session {
  sessionNo: number
  /** Network-server time (ms) of the join or of the session's first uplink. */
  startedAt: number
  seqBase: number
  /** Highest FCnt seen in the session; -1 before its first uplink (a session opened by a join). */
  maxFCnt: number
  lastReceivedAt: number
  reason: SessionReason
}

export type FrameMapping =
  | { ok: true; seq: number; session: Session; opened: boolean }
  /** An uplink of an earlier session whose FCnt reaches into the next session's seqs (see docs/lorawan.md). */
  | { ok: false; detail: string }

/** Map an uplink onto a session; `sessions` in ascending order. The returned session is the updated (or new) one to store. */
export function mapFrameCounter(sessions: readonly Session[], fCnt: number, receivedAt: number): FrameMapping {
  const latest = sessions.at(-1)
  if (!latest) {
    const session: Session = { sessionNo: 1, startedAt: receivedAt, seqBase: 0, maxFCnt: fCnt, lastReceivedAt: receivedAt, reason: 'first' }
    return { ok: true, seq: fCnt, session, opened: true }
  }
  if (receivedAt >= latest.startedAt) {
    if (fCnt > latest.maxFCnt || receivedAt <= latest.lastReceivedAt) return { ok: true, seq: latest.seqBase + fCnt, session: advance(latest, fCnt, receivedAt), opened: false }
    const session: Session = { sessionNo: latest.sessionNo + 1, startedAt: receivedAt, seqBase: nextBase(latest), maxFCnt: fCnt, lastReceivedAt: receivedAt, reason: 'f_cnt_reset' }
    return { ok: true, seq: session.seqBase + fCnt, session, opened: true }
  }
  // Late: the session current at its time (or the first one, for an uplink older than all of them).
  let i = sessions.length - 1
  while (i > 0 && sessions[i]!.startedAt > receivedAt) i--
  const s = sessions[i]!
  const next = sessions[i + 1]
  if (next && s.seqBase + fCnt >= next.seqBase) {
    return { ok: false, detail: `FCnt ${fCnt} of session ${s.sessionNo} arrived after session ${next.sessionNo} began and is beyond the highest FCnt (${s.maxFCnt}) that session was known to reach` }
  }
  return { ok: true, seq: s.seqBase + fCnt, session: advance(s, fCnt, receivedAt), opened: false }
}

/** A join at `at`: a new session unless one already began at or after it (its uplinks came first). */
export function mapJoin(sessions: readonly Session[], at: number): { session: Session; opened: boolean } | null {
  const latest = sessions.at(-1)
  if (!latest) return { session: { sessionNo: 1, startedAt: at, seqBase: 0, maxFCnt: -1, lastReceivedAt: at, reason: 'join' }, opened: true }
  if (latest.startedAt >= at || at <= latest.lastReceivedAt) {
    // A repeat of this join, or its uplinks were seen first (and opened the session by FCnt reset).
    return latest.reason === 'f_cnt_reset' && latest.startedAt >= at ? { session: { ...latest, reason: 'join' }, opened: false } : null
  }
  return { session: { sessionNo: latest.sessionNo + 1, startedAt: at, seqBase: nextBase(latest), maxFCnt: -1, lastReceivedAt: at, reason: 'join' }, opened: true }
}

const nextBase = (s: Session) => s.seqBase + Math.max(s.maxFCnt, -1) + 1
const advance = (s: Session, fCnt: number, receivedAt: number): Session => ({ ...s, maxFCnt: Math.max(s.maxFCnt, fCnt), lastReceivedAt: Math.max(s.lastReceivedAt, receivedAt) })
