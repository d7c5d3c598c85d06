// Frame counters → seq for many uplinks at a time. Each database round trip costs milliseconds (on
// the embedded database a query waits its turn behind the pipeline's commits), so the webhook maps
// the uplinks that arrive together as a group: while one group is being mapped the next gathers,
// then one query finds their devices and one their sessions (group commit, as the pipeline does).
// Only a session that opens is written, before any of its uplinks is answered.
import type { Database } from '../../storage/database.ts'
import { devicesOf, mapUplink, sessionsOf, writeSession, type UplinkMapping } from '../../storage/lorawan-devices.ts'
import { mapFrameCounter, type Session } from './frame-counter.ts'

interface Request { devEui: string; fCnt: number; receivedAt: Date; resolve: (m: UplinkMapping) => void; reject: (err: unknown) => void }

/** Most uplinks mapped in one group. */
const GROUP = 500
/** Devices whose in-flight uplinks this process remembers (their readings may not be committed yet). */
const SEEN_LIMIT = 100_000

export interface UplinkMapper { map(devEui: string, fCnt: number, receivedAt: Date): Promise<UplinkMapping> }

export function createUplinkMapper(db: Database): UplinkMapper {
  let queue: Request[] = []
  let running = false
  // The highest FCnt and time this process mapped per device and session: the stored state lags the
  // pipeline's commits, and a reset must be judged against the uplinks already in flight too.
  const seen = new Map<string, { sessionNo: number; maxFCnt: number; lastReceivedAt: number }>()

  async function drain() {
    running = true
    try {
      while (queue.length > 0) {
        // Let the requests already read from sockets reach the queue first: the embedded database runs
        // in this thread and its answers resolve without giving I/O a turn, so without this yield
        // every group would hold one uplink.
        await new Promise((resolve) => setImmediate(resolve))
        const group = queue.slice(0, GROUP)
        queue = queue.slice(group.length)
        try {
          await mapGroup(group)
        } catch (err) {
          for (const r of group) r.reject(err)
        }
      }
    } finally {
      running = false
    }
  }

  async function mapGroup(group: Request[]) {
    const euis = [...new Set(group.map((r) => r.devEui))]
    const [devices, sessions] = await Promise.all([devicesOf(db, euis), sessionsOf(db, euis)])
    const retry: Request[] = []
    for (const r of group) {
      const device = devices.get(r.devEui)
      if (!device) { r.resolve(null); continue }
      const list = sessions.get(r.devEui) ?? []
      sessions.set(r.devEui, list)
      overlay(r.devEui, list)
      const mapping = mapFrameCounter(list, r.fCnt, r.receivedAt.getTime())
      if (mapping.ok && mapping.write) {
        const opening = !list.some((s) => s.sessionNo === mapping.write!.session.sessionNo)
        if (!(await writeSession(db, r.devEui, mapping.write)) && opening) {
          // Another process opened this session first: map against what it stored.
          retry.push(r)
          continue
        }
        apply(list, mapping.write.session)
      }
      if (mapping.ok) remember(r.devEui, list.find((s) => s.sessionNo === mapping.sessionNo)!, r.fCnt, r.receivedAt.getTime())
      r.resolve({ device, mapping })
    }
    for (const r of retry) mapUplink(db, r.devEui, r.fCnt, r.receivedAt).then(r.resolve, r.reject)
  }

  function overlay(devEui: string, list: Session[]) {
    const s = seen.get(devEui)
    const target = s && list.find((x) => x.sessionNo === s.sessionNo)
    if (!s || !target) return
    target.maxFCnt = Math.max(target.maxFCnt, s.maxFCnt)
    target.lastReceivedAt = Math.max(target.lastReceivedAt, s.lastReceivedAt)
  }

  function remember(devEui: string, session: Session, fCnt: number, at: number) {
    session.maxFCnt = Math.max(session.maxFCnt, fCnt)
    session.lastReceivedAt = Math.max(session.lastReceivedAt, at)
    const current = seen.get(devEui)
    if (current && current.sessionNo > session.sessionNo) return // a late uplink of an earlier session
    if (seen.size >= SEEN_LIMIT) seen.clear()
    seen.set(devEui, { sessionNo: session.sessionNo, maxFCnt: session.maxFCnt, lastReceivedAt: session.lastReceivedAt })
  }

  return {
    map(devEui, fCnt, receivedAt) {
      return new Promise((resolve, reject) => {
        queue.push({ devEui, fCnt, receivedAt, resolve, reject })
        if (!running) void drain()
      })
    },
  }
}

function apply(list: Session[], session: Session) {
  const i = list.findIndex((s) => s.sessionNo === session.sessionNo)
  if (i >= 0) list[i] = { ...list[i]!, startedAt: session.startedAt, reason: session.reason }
  else list.push({ ...session })
}
