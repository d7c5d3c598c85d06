// Entry of the embedded database's worker thread (storage/pglite-worker-client.ts starts it).
// TypeScript loads through tsx's loader, registered here because a worker thread does not share
// the main thread's module hooks (the CLI registers tsx there; vitest has its own loader).
import { register } from 'tsx/esm/api'

register()
await import('./pglite-worker.ts')
