// A repair for an aedes 1.2 defect that loses messages of persistent sessions: two queued messages of
// one session can hold the same packet id, and the PUBACK for one of them then deletes the other.
//
// How it happens (aedes 1.2.0, aedes-persistence 11):
// - A queued message keeps the packet id it was first sent with, and is resent with it at the next
//   CONNECT (lib/handlers/connect.js emptyQueue -> lib/qos-packet.js: `this.messageId =
//   original.messageId`), as MQTT requires [MQTT-4.4.0-1].
// - Each connection numbers new messages from a counter that starts at random
//   (lib/client.js: `this._nextId = Math.ceil(Math.random() * 65535)`) and knows nothing of the ids
//   the session's queue still holds.
// - On a reconnect, the resending of the queue (emptyQueue, one packet per socket drain) and the
//   live delivery of new messages (deliverQoS) share the socket; with a deep queue and a subscriber
//   that holds its acknowledgements until its commit, the live counter runs through thousands of
//   ids while the resending lags, and it can reach an id that a not-yet-resent message still holds.
// - The subscriber acknowledges the live message; aedes-persistence's memory store deletes the FIRST
//   queued message with that id (asyncPersistence.js outgoingClearMessageId: `if (temp.messageId
//   === packet.messageId) outgoing.splice(i, 1)`), which is the older one, never resent. When
//   emptyQueue reaches it, outgoingUpdate fails with "no such packet" and aedes drops the
//   connection. The live message is resent later; the older one is gone for good.
// Seen in tests/services/kill-restart.test.ts (ingest SIGKILLed and restarted against a bare aedes):
// 15 to 83 of 50,000 messages lost in about one run in eight, each lost message having been sent
// before the kill and its id acknowledged for another message after the restart.
//
// The repair: the store's outgoingUpdate, which aedes calls with the packet it is about to write
// (both for live delivery and for the resend), checks that no other queued message of the session
// holds the packet's id; if one does, the packet takes the connection's next free id (the packet
// object is the one aedes then writes, so the id on the wire is the new one). An index of the ids
// held by each session's queue is kept beside the store, built from the store the first time a
// session is seen (the level and Redis stores outlive the broker process).
import type { Aedes } from 'aedes'

interface QueuedPacket { messageId?: number; brokerId?: string; brokerCounter?: number }
interface SessionClient { id: string; _nextId: number; closed?: boolean }
interface OutgoingStore {
  outgoingUpdate(client: SessionClient, packet: QueuedPacket): Promise<void>
  outgoingClearMessageId(client: SessionClient, packet: QueuedPacket): Promise<QueuedPacket | undefined>
  outgoingStream(client: { id: string }): AsyncIterable<QueuedPacket>
}

interface SessionIds {
  /** packet id -> the queued message (broker id and counter) holding it */
  byId: Map<number, string>
  /** queued message -> its packet id */
  byMessage: Map<string, number>
}

const MAX_ID = 65_535
const keyOf = (p: QueuedPacket) => `${p.brokerId}:${p.brokerCounter}`

/** The connection's next id, advanced as aedes's QoSPacket advances it (lib/qos-packet.js). */
function takeNextId(client: SessionClient): number {
  const id = client._nextId
  client._nextId = id >= MAX_ID ? 1 : id + 1
  return id
}

export function ensureUniqueOutgoingIds(aedes: Aedes, onReassign: () => void = () => undefined): void {
  const store = (aedes as unknown as { persistence: OutgoingStore }).persistence
  const update = store.outgoingUpdate.bind(store)
  const clear = store.outgoingClearMessageId.bind(store)
  const sessions = new Map<string, SessionIds>()
  const loading = new Map<string, Promise<SessionIds>>()

  const hold = (s: SessionIds, key: string, id: number) => {
    const previous = s.byMessage.get(key)
    if (previous !== undefined && previous !== id && s.byId.get(previous) === key) s.byId.delete(previous)
    s.byId.set(id, key)
    s.byMessage.set(key, id)
  }
  const release = (s: SessionIds, key: string, id: number) => {
    if (s.byId.get(id) === key) s.byId.delete(id)
    if (s.byMessage.get(key) === id) s.byMessage.delete(key)
  }

  const sessionOf = (clientId: string): SessionIds | Promise<SessionIds> => {
    const known = sessions.get(clientId)
    if (known) return known
    let pending = loading.get(clientId)
    if (!pending) {
      pending = (async () => {
        const s: SessionIds = { byId: new Map(), byMessage: new Map() }
        for await (const p of store.outgoingStream({ id: clientId })) if (p.messageId) hold(s, keyOf(p), p.messageId)
        sessions.set(clientId, s)
        loading.delete(clientId)
        return s
      })()
      loading.set(clientId, pending)
    }
    return pending
  }

  store.outgoingUpdate = async (client, packet) => {
    // A connection that has closed writes nothing more, but aedes goes on numbering for it: its
    // emptyQueue runs to the end of its copy of the queue after the socket is gone. Numbered, a
    // queued message would take an id of the dead connection while the live one may have sent it
    // with another (and the live one's PUBACK would then match nothing). Refused here, aedes
    // reports the error on the closed client and moves on; the message keeps its entry as it was.
    if (client.closed) throw new Error('connection closed')
    const s = await sessionOf(client.id)
    const key = keyOf(packet)
    if (packet.messageId) {
      const holder = s.byId.get(packet.messageId)
      if (holder !== undefined && holder !== key) {
        // Another queued message holds this id: take the next one nobody holds (at most 65,535
        // tries; with every id held, keep it as aedes would have).
        for (let i = 0; i < MAX_ID; i++) {
          const id = takeNextId(client)
          if (!s.byId.has(id)) {
            packet.messageId = id
            onReassign()
            break
          }
        }
      }
      hold(s, key, packet.messageId)
    }
    try {
      await update(client, packet)
    } catch (err) {
      if (packet.messageId) release(s, key, packet.messageId)
      throw err
    }
  }

  // A clean session's queue ends with its connection: forget its ids (a broker with many devices
  // that subscribe to their own commands would otherwise keep an entry for each for ever).
  ;(aedes as unknown as NodeJS.EventEmitter).on('clientDisconnect', (client: { id: string; clean?: boolean }) => {
    if (client.clean) sessions.delete(client.id)
  })

  store.outgoingClearMessageId = async (client, packet) => {
    const removed = await clear(client, packet)
    // Released whether or not the store says what it removed (the level store's answer differs):
    // no queued message holds an id after its PUBACK.
    const s = sessions.get(client.id)
    if (s && packet.messageId) {
      const key = s.byId.get(packet.messageId)
      if (key !== undefined) release(s, key, packet.messageId)
    }
    return removed
  }
}
