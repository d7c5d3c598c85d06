// The broker's in-process message emitter (mqemitter, as aedes makes it by default), with a guard on
// how deep its queue drains synchronously. mqemitter queues messages beyond `concurrency` in flight
// and, as each completes, starts the next from inside the completion; when deliveries complete
// synchronously (subscribers gone at a shutdown, or none), a queue of thousands drains by recursion
// and the stack overflows (seen: "Maximum call stack size exceeded" in aedes' publish path when
// `kerbside start` was stopped in a burst). Past a depth, the next message is started on the next
// turn of the event loop, with its slot held so that newer messages still queue behind it (order kept).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

interface Emitter {
  current: number
  _do(message: unknown, callback: unknown): Emitter
}

export const MAX_SYNC_DEPTH = 200

export function createBrokerEmitter(concurrency = 100): unknown {
  const mqemitter = require('mqemitter') as (opts: { concurrency: number }) => Emitter
  return guardDepth(mqemitter({ concurrency }))
}

export function guardDepth<T extends Emitter>(mq: T): T {
  const start = mq._do.bind(mq)
  let depth = 0
  mq._do = (message, callback) => {
    if (depth >= MAX_SYNC_DEPTH) {
      mq.current++ // hold its place while it waits
      setImmediate(() => { mq.current--; start(message, callback) })
      return mq
    }
    depth++
    try {
      return start(message, callback)
    } finally {
      depth--
    }
  }
  return mq
}
