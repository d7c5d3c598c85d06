// Device messages of a replayed past written straight into storage, through the functions ingest
// itself uses: the topic parsed, the payload decoded and validated as it would be on arrival
// (`receivedAt` is the simulated moment it was sent), then ingest's own batch write (telemetry,
// sequence state and gaps, latest state, quarantine) in transactions of a few thousand. What is left
// out is the network: weeks of a city replay in seconds rather than minutes, since the broker's
// per-message acknowledgements would bound them.
import { decodePayload, encodeBinary } from '../../core/contract/codec.ts'
import { parseTopic } from '../../core/contract/topics.ts'
import { writeBatch, type DecodedItem } from '../../ingest/write-batch.ts'
import type { Database } from '../../storage/database.ts'
import type { SimOutput } from '../model/simulation.ts'

type MessageOutput = Extract<SimOutput, { type: 'message' }>

export interface DirectWriter {
  /** Take a message; resolves at once, or after a full batch has been written. */
  add(out: MessageOutput): Promise<void>
  /** Write what is held. */
  flush(): Promise<void>
  /** Messages written, and refused by validation or storage (which ingest quarantines). */
  readonly written: number
  readonly refused: number
}

const SEGMENT = { bin: 'bins', vehicle: 'vehicles' } as const

export function createDirectWriter(db: Database, opts: { batchSize?: number; maxPayloadBytes?: number } = {}): DirectWriter {
  const batchSize = opts.batchSize ?? 5_000
  const maxBytes = opts.maxPayloadBytes ?? 16_384
  let items: DecodedItem[] = []
  let written = 0
  let refused = 0

  async function flush(): Promise<void> {
    if (items.length === 0) return
    const batch = items
    items = []
    const stats = await db.transaction((tx) => writeBatch(tx, batch, { invalidateRollup: !db.capabilities.continuousAggregates }))
    const rejected = Object.values(stats.rejected).reduce((s, n) => s + (n ?? 0), 0)
    written += batch.length - rejected
    refused += rejected
  }

  return {
    async add(out) {
      const topic = `kerbside/v1/${SEGMENT[out.deviceKind]}/${out.deviceId}/${out.kind}${out.binary ? '/cbor' : ''}`
      const payload = out.binary ? encodeBinary(out.body) : Buffer.from(JSON.stringify(out.body))
      const parsed = parseTopic(topic)
      const receivedAt = new Date(out.at)
      items.push({
        topic, payload, receivedAt, parsed,
        result: parsed ? decodePayload(parsed.message, payload, parsed.binary, maxBytes, out.at) : { ok: false, reason: 'unknown_topic', detail: 'topic is not part of the device contract v1' },
      })
      if (items.length >= batchSize) await flush()
    },
    flush,
    get written() { return written },
    get refused() { return refused },
  }
}
