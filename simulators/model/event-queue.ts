// A binary min-heap of timed events. Ties in time are broken by insertion order, so that the same
// pushes always pop in the same order (the event stream is part of what the seed fixes).

interface Entry<T> { at: number; order: number; value: T }

export class EventQueue<T> {
  private readonly heap: Entry<T>[] = []
  private counter = 0

  get size(): number {
    return this.heap.length
  }

  push(at: number, value: T): void {
    const e = { at, order: this.counter++, value }
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  peekTime(): number | undefined {
    return this.heap[0]?.at
  }

  pop(): { at: number; value: T } | undefined {
    const h = this.heap
    const top = h[0]
    if (!top) return undefined
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && less(h[l]!, h[m]!)) m = l
        if (r < h.length && less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return { at: top.at, value: top.value }
  }
}

const less = <T>(a: Entry<T>, b: Entry<T>) => a.at < b.at || (a.at === b.at && a.order < b.order)
