// Put a step in front of every transaction the ingest pipeline opens on `db` (hold it, slow it, fail
// it): db.transaction, and transactionIn where the embedded engine runs on its worker thread (the
// pipeline then sends the whole batch there in one message: ingest/write-batch.ts commitBatch).
import type { Database } from '../../storage/database.ts'
import type { PgliteWorkerDatabase } from '../../storage/pglite-worker-client.ts'

export function interceptCommits(db: Database, before: () => Promise<void>): void {
  const original = db.transaction.bind(db)
  db.transaction = (async (fn) => {
    await before()
    return original(fn)
  }) as Database['transaction']
  const onWorker = db as Partial<PgliteWorkerDatabase>
  const originalIn = onWorker.transactionIn?.bind(db)
  if (originalIn) {
    onWorker.transactionIn = async (module, fn, args) => {
      await before()
      return originalIn(module, fn, args)
    }
  }
}
