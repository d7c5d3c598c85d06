// Refused input made visible to an operator: one log line per reason at most every ten seconds,
// with one example (device, topic, what was wrong) and how many more were refused since the last
// line. Everything refused is also counted (kerbside_ingest_rejected_total) and kept in quarantine.
import type { Logger } from '../core/log.ts'
import type { DecodedItem } from './write-batch.ts'

const EVERY_MS = 10_000

export function createRefusalLog(logger: Logger, now: () => number = Date.now) {
  const last = new Map<string, { at: number; suppressed: number }>()
  return {
    record(refused: Map<DecodedItem, { reason: string; detail: string }>) {
      for (const [item, { reason, detail }] of refused) {
        const seen = last.get(reason)
        if (seen && now() - seen.at < EVERY_MS) { seen.suppressed++; continue }
        logger.warn({
          reason, deviceId: item.parsed?.deviceId, topic: item.topic.slice(0, 200), detail: detail.slice(0, 300),
          alsoRefusedSinceLastLine: seen?.suppressed ?? 0,
        }, `message refused (${reason}) and quarantined: ${detail.slice(0, 200)}. Kept in the quarantine table; counted in kerbside_ingest_rejected_total`)
        last.set(reason, { at: now(), suppressed: 0 })
      }
    },
  }
}
