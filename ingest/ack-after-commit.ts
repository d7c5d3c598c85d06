// A standard MQTT.js client whose QoS 1 acknowledgements wait for the database commit.
//
// MQTT.js sends the PUBACK of a received QoS 1 message when `handleMessage(packet, cb)` calls back,
// and it also waits for that callback before it parses the next packet. Acknowledging after the
// commit through handleMessage alone would therefore allow one message in flight per connection,
// and no batching. So handleMessage calls back at once (the next packet is parsed), and the PUBACK
// that MQTT.js then sends is held here until the application acks the message. PUBACKs leave in the
// order the PUBLISHes arrived, as [MQTT-4.6.0-2] requires, because batches commit in arrival order.
//
// Backpressure: while `maxPending` messages wait for their commit, handleMessage does not call
// back, so MQTT.js stops reading the socket and the broker holds the rest (TCP flow control).
//
// Acks held for a connection that has since dropped are discarded: the broker redelivers those
// messages on the persistent session, and the idempotent writes make the redelivery harmless.
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt'

export interface ReceivedMessage {
  topic: string
  payload: Buffer
  qos: number
  /** Call after the message is durably stored (or quarantined); sends its PUBACK. */
  ack: () => void
}

export interface AckAfterCommitOptions extends IClientOptions {
  maxPending: number
  onMessage: (msg: ReceivedMessage) => void
}

type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, ...rest: unknown[]) => void

export interface AckAfterCommitClient {
  client: MqttClient
  /** Messages received but not yet acknowledged. */
  pending(): number
}

export function connectAckAfterCommit(url: string, opts: AckAfterCommitOptions): AckAfterCommitClient {
  const { maxPending, onMessage, ...clientOpts } = opts
  const client = mqtt.connect(url, { ...clientOpts, manualConnect: true })
  const internal = client as unknown as { _sendPacket: SendPacket }
  const originalSend = internal._sendPacket.bind(client)

  let generation = 0 // bumped on every (re)connect; acks from an older connection are void
  let pending = 0
  let resumeReading: (() => void) | null = null
  // messageId -> holds waiting for MQTT.js's PUBACK call, in arrival order. Normally one per id,
  // but a broker may reuse an id that is still unacknowledged (aedes does after a restart: it
  // restarts its counter at random while queued messages keep their old ids), and then each of
  // the two messages must still get its own PUBACK when its own commit is done.
  interface Hold { release: (() => void) | null; acked: boolean }
  const awaitingSend = new Map<number, Hold[]>()

  // A new generation starts when a connection ends: acks of messages received on it are void
  // from then on (MQTT.js would otherwise queue their PUBACKs and replay them on the next
  // connection, where those packet ids mean other messages).
  const newGeneration = () => {
    generation++
    awaitingSend.clear()
  }
  client.on('connect', newGeneration)

  internal._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd === 'puback' && !client.connected) {
      cb?.() // the broker redelivers this message on the persistent session
      return
    }
    if (packet.cmd === 'puback' && packet.messageId !== undefined) {
      const queue = awaitingSend.get(packet.messageId)
      const hold = queue?.shift()
      if (hold) {
        if (queue!.length === 0) awaitingSend.delete(packet.messageId)
        // Let MQTT.js go on to the next packet now; the PUBACK itself leaves when the app acks.
        const send = () => originalSend(packet, undefined, ...rest)
        if (hold.acked) send()
        else hold.release = send
        cb?.()
        return
      }
    }
    originalSend(packet, cb, ...rest)
  }

  client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void) => {
    const messageId = packet.messageId
    const myGeneration = generation
    const isQos1 = packet.qos === 1 && messageId !== undefined
    const hold: Hold = { release: null, acked: false }
    if (isQos1) {
      const queue = awaitingSend.get(messageId)
      if (queue) queue.push(hold)
      else awaitingSend.set(messageId, [hold])
    }
    pending++
    let done = false
    const ack = () => {
      if (done) return
      done = true
      pending--
      if (resumeReading && pending < maxPending) {
        const resume = resumeReading
        resumeReading = null
        resume()
      }
      if (!isQos1 || myGeneration !== generation) return
      if (hold.release) hold.release()
      else hold.acked = true
    }
    onMessage({ topic: packet.topic, payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), qos: packet.qos, ack })
    if (pending < maxPending) callback()
    else resumeReading = () => callback()
  }

  client.on('close', () => {
    // The socket is gone: nothing pending on it can be acknowledged any more. Let the work loop
    // of MQTT.js continue so that it can reconnect.
    newGeneration()
    if (resumeReading) {
      const resume = resumeReading
      resumeReading = null
      resume()
    }
  })

  client.connect()
  return { client, pending: () => pending }
}
