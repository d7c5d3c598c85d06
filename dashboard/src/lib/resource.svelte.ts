// One thing a screen loads from the API: its status (for the loading, empty and error states), the
// answer, and a message for people when it fails. A newer load cancels the one still running, so a
// slow answer to an old question never replaces the answer to the new one.
import { describeError } from './api-client.ts'

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error'

export class Resource<T> {
  status = $state<LoadStatus>('idle')
  /** The last answer; kept while a reload runs, so a screen does not flash empty. Not deeply reactive. */
  data = $state.raw<T | null>(null)
  error = $state<string | null>(null)
  /** The HTTP status of the last failure (0: network), for screens that explain a 403 or 404. */
  errorStatus = $state<number | null>(null)
  #abort: AbortController | null = null

  async load(fetcher: (signal: AbortSignal) => Promise<T>): Promise<void> {
    this.#abort?.abort()
    const abort = (this.#abort = new AbortController())
    this.status = 'loading'
    this.error = null
    this.errorStatus = null
    try {
      const data = await fetcher(abort.signal)
      if (abort.signal.aborted) return
      this.data = data
      this.status = 'ready'
    } catch (err) {
      if (abort.signal.aborted) return
      this.error = describeError(err)
      this.errorStatus = (err as { status?: number }).status ?? null
      this.status = 'error'
    }
  }

  /** Forget the answer (a new household, a signed-out session). */
  reset(): void {
    this.#abort?.abort()
    this.#abort = null
    this.status = 'idle'
    this.data = null
    this.error = null
    this.errorStatus = null
  }

  stop(): void {
    this.#abort?.abort()
  }
}
