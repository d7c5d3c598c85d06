// Revocation cuts a live device at once: every half second the broker asks the database for devices
// revoked in the last half minute and closes their connections. Logins of revoked devices are refused
// (device-auth.ts) and the pipeline refuses their messages (write-batch.ts), so nothing a revoked
// device sends after the revocation is stored or shown live. Polling the database, rather than an
// in-process event, covers every shape: the API that revoked may run in another process.
import type { Aedes, Client } from 'aedes'
import type { Logger } from '../core/log.ts'
import { principalOf } from './device-auth.ts'

export interface RevocationWatchOptions {
  aedes: Aedes
  logger: Logger
  /** Device ids revoked within the last `withinSeconds`. */
  revokedRecently: (withinSeconds: number) => Promise<string[]>
  intervalMs?: number
  onDisconnect?: (deviceId: string) => void
}

export function startRevocationWatch(opts: RevocationWatchOptions): () => void {
  const intervalMs = opts.intervalMs ?? 500
  const clients = () => (opts.aedes as unknown as { clients: Record<string, Client> }).clients
  let running = false
  let failures = 0
  const tick = async () => {
    if (running) return
    running = true
    try {
      const ids = await opts.revokedRecently(30)
      failures = 0
      for (const id of ids) {
        const client = clients()[id]
        const who = principalOf(client ?? null)
        if (!client || who?.type !== 'device' || who.deviceId !== id) continue
        opts.logger.warn({ deviceId: id }, 'device revoked: connection closed')
        opts.onDisconnect?.(id)
        client.close()
      }
    } catch (err) {
      // The database is away: the pipeline already stops acknowledging; say so once in a while.
      if (failures++ % 120 === 0) opts.logger.warn({ err: (err as Error).message }, 'revocation check failed; retrying')
    } finally {
      running = false
    }
  }
  const timer = setInterval(() => void tick(), intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
