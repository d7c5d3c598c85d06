// Backfill from The Things Stack's Storage Integration: uplinks the webhook never delivered (Kerbside
// down or restarting, a network cut, a webhook without retries) are read back from the Application
// Server's store and put through the same front door as webhook uplinks. Every uplink keeps its
// network-server time and frame counter, so one already stored is recognised as a duplicate and a
// backfill can be repeated, or overlap the webhook, without doubling anything.
//
// HTTP API (thethingsindustries.com/docs/integrations/storage/retrieve):
//   GET {base}/api/v3/as/applications/{application id}/packages/storage/uplink_message?after=…&limit=…
//   Authorization: Bearer {API key with RIGHT_APPLICATION_TRAFFIC_READ}, Accept: text/event-stream
// The answer is newline-delimited JSON, one `{"result": {application up message}}` per line (or
// `{"error": {…}}`). Retention: 30 days on The Things Stack Cloud, 24 hours on the Sandbox.
import type { Logger } from '../../core/log.ts'
import { parseTtsMessage } from './tts-envelope.ts'
import type { LoRaWANIngest, OutcomeName } from './uplink-handler.ts'

export interface TtsStorage {
  /** e.g. https://eu1.cloud.thethings.network */
  baseUrl: string
  applicationId: string
  apiKey: string
}

export interface BackfillResult {
  read: number
  outcomes: Partial<Record<OutcomeName, number>>
  /** Network-server time of the newest uplink read (the next backfill may start there). */
  newest: Date | null
  /** True when Kerbside began shutting down mid-way: the rest is for the next run. */
  interrupted: boolean
}

export class TtsStorageError extends Error {
  override name = 'KERBSIDE_ERR_TTS_STORAGE'
}

const PAGE = 1000
const IN_FLIGHT = 32

/** Read every stored uplink after `after` (page by page) and hand each to the LoRaWAN front door. */
export async function backfillFromTtsStorage(storage: TtsStorage, ingest: LoRaWANIngest, after: Date, opts: { signal?: AbortSignal; pageSize?: number } = {}): Promise<BackfillResult> {
  const page = opts.pageSize ?? PAGE
  const result: BackfillResult = { read: 0, outcomes: {}, newest: null, interrupted: false }
  let cursor = after
  for (;;) {
    const url = new URL(`/api/v3/as/applications/${encodeURIComponent(storage.applicationId)}/packages/storage/uplink_message`, storage.baseUrl)
    url.searchParams.set('after', cursor.toISOString())
    url.searchParams.set('limit', String(page))
    url.searchParams.set('order', 'received_at')
    const res = await fetch(url, { headers: { authorization: `Bearer ${storage.apiKey}`, accept: 'text/event-stream' }, signal: opts.signal })
    if (!res.ok) throw new TtsStorageError(`The Things Stack answered ${res.status} for ${url.pathname}: ${(await res.text()).slice(0, 200)}`)
    const messages: unknown[] = []
    for (const line of (await res.text()).split('\n')) {
      if (!line.trim()) continue
      const item = JSON.parse(line) as { result?: unknown; error?: { message?: string } }
      if (item.error) throw new TtsStorageError(`The Things Stack's storage: ${item.error.message ?? JSON.stringify(item.error).slice(0, 200)}`)
      if (item.result) messages.push(item.result)
    }
    // A bounded number in flight: the front door maps and commits the uplinks that arrive together as a group.
    for (let i = 0; i < messages.length; i += IN_FLIGHT) {
      const outcomes = await Promise.all(messages.slice(i, i + IN_FLIGHT).map(async (m) => {
        const parsed = parseTtsMessage(m)
        if (parsed.ok && parsed.event.kind === 'up' && (!result.newest || parsed.event.receivedAt > result.newest)) result.newest = parsed.event.receivedAt
        return (await ingest.handle('ttn', parsed, Buffer.from(JSON.stringify(m)))).body.outcome
      }))
      for (const o of outcomes) result.outcomes[o] = (result.outcomes[o] ?? 0) + 1
      result.read += outcomes.length
      if (outcomes.includes('retry')) { result.interrupted = true; return result }
    }
    if (messages.length < page || !result.newest || result.newest <= cursor) return result
    // The next page starts at the newest time read; uplinks at that very time come again and are recognised.
    cursor = new Date(result.newest.getTime() - 1)
  }
}

export interface TtsBackfillSchedule { stop(): Promise<void> }

/**
 * Backfill at start (from shortly before the newest LoRaWAN reading Kerbside holds, at most
 * `maxHours` back), then every `everyMinutes` over the last two intervals, so that a network cut
 * while Kerbside runs leaves no hole either.
 */
export function startTtsBackfill(o: { storage: TtsStorage; ingest: LoRaWANIngest; logger: Logger; everyMinutes: number; maxHours: number; newestStored: () => Promise<Date | null> }): TtsBackfillSchedule {
  const abort = new AbortController()
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null
  const run = async (after: Date) => {
    try {
      const r = await backfillFromTtsStorage(o.storage, o.ingest, after, { signal: abort.signal })
      o.logger.info({ after, read: r.read, outcomes: r.outcomes, interrupted: r.interrupted }, `backfill from The Things Stack's Storage Integration: ${r.read} uplinks read`)
    } catch (err) {
      if (!abort.signal.aborted) o.logger.error({ err: (err as Error).message }, "backfill from The Things Stack's Storage Integration failed; the next run tries again")
    }
  }
  const schedule = () => {
    if (abort.signal.aborted) return
    timer = setTimeout(() => {
      running = run(new Date(Date.now() - 2 * o.everyMinutes * 60_000)).finally(schedule)
    }, o.everyMinutes * 60_000)
    timer.unref()
  }
  running = (async () => {
    const newest = await o.newestStored().catch(() => null)
    const floor = Date.now() - o.maxHours * 3_600_000
    await run(new Date(Math.max(floor, (newest?.getTime() ?? floor) - 3_600_000)))
  })().finally(schedule)
  return {
    async stop() {
      abort.abort()
      if (timer) clearTimeout(timer)
      await running?.catch(() => {})
      if (timer) clearTimeout(timer)
    },
  }
}
