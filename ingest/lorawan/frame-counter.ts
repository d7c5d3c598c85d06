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
// `time`) decides. Within a session FCnt grows with time; an uplink later than everything seen in
// a session with an FCnt at or below the session's highest is past a reset, and belongs to the next
// session (opening it when it is the latest; a join event opens one too); otherwise an uplink
// belongs to the session that was current at its time. Pure, so that it can be tested on its own;
// storage/lorawan-devices.ts keeps the sessions.

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
  | {
    ok: true
    seq: number
    sessionNo: number
    /** A session to store: a new one (and the one before it, with its final state), or one whose start moved earlier. */
    write: { session: Session; closing?: Session } | null
  }
  /** An uplink of an earlier session whose FCnt reaches into the next session's seqs (see docs/lorawan.md). */
  | { ok: false; detail: string }

/** Map an uplink onto a session; `sessions` in ascending order, with each one's state as known. */
export function mapFrameCounter(sessions: readonly Session[], fCnt: number, receivedAt: number): FrameMapping {
  const latest = sessions.at(-1)
  if (!latest) {
    const session: Session = { sessionNo: 1, startedAt: receivedAt, seqBase: 0, maxFCnt: fCnt, lastReceivedAt: receivedAt, reason: 'first' }
    return { ok: true, seq: fCnt, sessionNo: 1, write: { session } }
  }
  // The session current at the uplink's time (the first one for an uplink older than all of them).
  let i = sessions.length - 1
  while (i > 0 && sessions[i]!.startedAt > receivedAt) i--
  const s = sessions[i]!
  const next = sessions[i + 1]
  const pastReset = receivedAt > s.lastReceivedAt && fCnt <= s.maxFCnt
  if (!pastReset) {
    if (next && s.seqBase + fCnt >= next.seqBase) {
      return { ok: false, detail: `FCnt ${fCnt} of session ${s.sessionNo} arrived after session ${next.sessionNo} began and is beyond the highest FCnt (${s.maxFCnt}) that session was known to reach` }
    }
    return { ok: true, seq: s.seqBase + fCnt, sessionNo: s.sessionNo, write: null }
  }
  if (next) {
    // An early uplink of the next session that arrived after later ones: that session began earlier than thought.
    return { ok: true, seq: next.seqBase + fCnt, sessionNo: next.sessionNo, write: { session: { ...next, startedAt: Math.min(next.startedAt, receivedAt) } } }
  }
  const session: Session = { sessionNo: s.sessionNo + 1, startedAt: receivedAt, seqBase: nextBase(s), maxFCnt: fCnt, lastReceivedAt: receivedAt, reason: 'f_cnt_reset' }
  return { ok: true, seq: session.seqBase + fCnt, sessionNo: session.sessionNo, write: { session, closing: s } }
}

/** A join at `at`: a new session unless one already began at or after it (its uplinks came first). */
export function mapJoin(sessions: readonly Session[], at: number): { session: Session; closing?: Session } | null {
  const latest = sessions.at(-1)
  if (!latest) return { session: { sessionNo: 1, startedAt: at, seqBase: 0, maxFCnt: -1, lastReceivedAt: at, reason: 'join' } }
  if (latest.startedAt >= at || at <= latest.lastReceivedAt) {
    // A repeat of this join, or its uplinks were seen first (and opened the session by FCnt reset).
    return latest.reason === 'f_cnt_reset' && latest.startedAt >= at ? { session: { ...latest, reason: 'join' } } : null
  }
  return { session: { sessionNo: latest.sessionNo + 1, startedAt: at, seqBase: nextBase(latest), maxFCnt: -1, lastReceivedAt: at, reason: 'join' }, closing: latest }
}

const nextBase = (s: Session) => s.seqBase + Math.max(s.maxFCnt, -1) + 1
