// The whole-city map answer, kept ready. Building it reads every household and bin with its last
// reading (about half a second for 20,000 households on the embedded database, more while the machine
// is busy), which is most of the wait for the dashboard's first screen. So the API builds it ahead:
// the first request builds it, and from then on it is built again every `refreshMs` (stretched to 20
// times the last build's duration, so a very large city does not spend more than a twentieth of its
// time on it); requests are answered from the newest one. A snapshot older than `maxAgeMs` is not
// served: the request waits for a fresh build.
// A snapshot is the CityMap object; its JSON (the whole-city answer of GET /api/v1/map), gzip and the
// index behind the overview, vector tiles and households (city-index.ts) are made from it when first
// asked for, so a large city does not stringify 45 MB every period for nobody.
// What happened since the snapshot was made reaches the dashboard over the live feed, which replays
// its last few minutes on request (api/routes/live.ts); a registry import drops the snapshot at once.
import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import type { Logger } from '../../core/log.ts'
import type { CityMap } from '../schemas/map.ts'
import { CityIndex } from './city-index.ts'

const gzip = promisify(gzipCb)
// Whole-city JSON is long runs of similar ids and numbers: gzip takes it to about a tenth.
export const GZIP_FROM_BYTES = 16 * 1024

export interface MapSnapshot {
  generatedAt: Date
  map: CityMap
  buildMs: number
  /** The whole CityMap as JSON (GET /api/v1/map), made the first time it is asked for. */
  readonly body: string
  /** The same, gzipped when long enough to be worth it. */
  gzipped(): Promise<Buffer | null>
  /** Overview, households and tiles of the same snapshot (the dashboard's map). */
  readonly index: CityIndex
}

/** A snapshot of the city; its JSON, gzip and tile index are made on first use (a 210,000-household city's JSON is 45 MB, and the dashboard no longer asks for it). */
export function encodeSnapshot(map: CityMap, buildMs: number): MapSnapshot {
  let body: string | null = null
  let gzipped: Promise<Buffer | null> | null = null
  let index: CityIndex | null = null
  return {
    generatedAt: new Date(map.generatedAt),
    map,
    buildMs,
    // JSON.stringify rather than the schema's serialiser: for a whole city's columns it is 10–30 times faster; the route's test checks the answer against the CityMap schema.
    get body() { return (body ??= JSON.stringify(map)) },
    gzipped() {
      const text = this.body
      return (gzipped ??= text.length >= GZIP_FROM_BYTES ? gzip(text, { level: 4 }) : Promise.resolve(null))
    },
    get index() { return (index ??= new CityIndex(map)) },
  }
}

export interface MapSnapshots {
  /** The newest snapshot if young enough, otherwise a fresh one (one build at a time, shared by every caller waiting). */
  get(): Promise<MapSnapshot>
  /** Forget the snapshot (the registry changed) and, when running, build the next one at once. */
  invalidate(): void
  /** Keep building every refresh period once a first snapshot exists, until stop(). */
  start(): void
  stop(): void
}

export function createMapSnapshots(opts: { build: () => Promise<CityMap>; refreshMs: number; maxAgeMs: number; logger: Logger; now?: () => number; prepare?: boolean }): MapSnapshots {
  const now = opts.now ?? Date.now
  let current: MapSnapshot | null = null
  let building: Promise<MapSnapshot> | null = null
  let generation = 0
  let timer: ReturnType<typeof setTimeout> | null = null
  let running = false

  let buildingGeneration = -1
  const rebuild = (): Promise<MapSnapshot> => {
    // A build started before the registry changed is not shared with callers asking after it.
    if (building && buildingGeneration === generation) return building
    const started = generation
    const t0 = performance.now()
    const build: Promise<MapSnapshot> = opts.build()
      .then(async (map) => {
        const snapshot = encodeSnapshot(map, performance.now() - t0)
        // The dashboard's first screen asks for the overview and the city-zoom tiles: have them ready.
        if (opts.prepare) await snapshot.index.prepare()
        return snapshot
      })
      .then((snapshot) => {
        if (started === generation) current = snapshot // an import while building: that snapshot may predate it
        return snapshot
      })
      .finally(() => { if (building === build) building = null })
    building = build
    buildingGeneration = started
    return build
  }

  const schedule = () => {
    if (!running) return
    const delay = Math.max(opts.refreshMs, 20 * (current?.buildMs ?? 0))
    timer = setTimeout(() => {
      rebuild()
        .catch((err: Error) => opts.logger.warn({ err: err.message }, 'map snapshot: the build failed; the next request builds afresh'))
        .finally(() => { timer = null; schedule() })
    }, delay)
    timer.unref()
  }

  return {
    async get() {
      // A large city is rebuilt less often (20 times its build time): its snapshot stays good for two of those periods.
      if (current && now() - current.generatedAt.getTime() <= Math.max(opts.maxAgeMs, 2 * 20 * current.buildMs)) return current
      const snapshot = await rebuild()
      if (running && !timer) schedule()
      return snapshot
    },
    invalidate() {
      generation++
      const had = current !== null
      current = null
      // Build the new one now, so that the next dashboard opened does not wait for it.
      if (running && had) rebuild().catch((err: Error) => opts.logger.warn({ err: err.message }, 'map snapshot: the build after a registry change failed; the next request builds afresh'))
    },
    start() {
      running = true
    },
    stop() {
      running = false
      if (timer) clearTimeout(timer)
      timer = null
    },
  }
}
