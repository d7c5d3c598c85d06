// Street lines for a map with no tile server: each street is drawn through its own households.
// Households of one street (same name in the same ward) are chained nearest-neighbour from one end,
// so crescents and bends are followed; the chain is smoothed, which pulls the zig-zag between odd
// and even sides onto the middle of the road, and simplified (Douglas–Peucker) to keep it small.
// A jump of more than MAX_GAP_M starts a new line: two streets of one name far apart stay apart.

export interface PlacedPoint {
  lon: number
  lat: number
  street: string | null
  ward: string | null
}

export interface StreetLine {
  name: string
  ward: string | null
  /** Flattened [lon, lat, lon, lat, …]. */
  path: number[]
}

const MAX_GAP_M = 250
const SMOOTH_WINDOW = 3 // points either side: an odd-sized window leaves a small residue of the zig-zag
const SIMPLIFY_M = 4
const M_PER_DEG_LAT = 111_320

interface Xy { x: number; y: number; i: number }

/** Lines of every named street, and for each input point the index of its line (-1 when unnamed). */
export function deriveStreetLines(points: readonly PlacedPoint[]): { streets: StreetLine[]; streetOf: Int32Array } {
  const groups = new Map<string, number[]>()
  points.forEach((p, i) => {
    if (!p.street) return
    const key = `${p.street}\u0000${p.ward ?? ''}`
    const g = groups.get(key)
    if (g) g.push(i)
    else groups.set(key, [i])
  })
  const streets: StreetLine[] = []
  const streetOf = new Int32Array(points.length).fill(-1)
  for (const members of groups.values()) {
    const first = points[members[0]!]!
    // Local equirectangular metres: exact enough over the length of one street.
    const kx = M_PER_DEG_LAT * Math.cos((first.lat * Math.PI) / 180)
    const xy = members.map((i) => ({ x: points[i]!.lon * kx, y: points[i]!.lat * M_PER_DEG_LAT, i }))
    for (const run of chain(xy)) {
      const index = streets.length
      for (const p of run) streetOf[p.i] = index
      const line = simplify(smooth(run), SIMPLIFY_M)
      const path: number[] = []
      for (const p of line) path.push(round5(p.x / kx), round5(p.y / M_PER_DEG_LAT))
      streets.push({ name: first.street!, ward: first.ward, path })
    }
  }
  return { streets, streetOf }
}

const round5 = (v: number) => Math.round(v * 1e5) / 1e5
const dist2 = (a: Xy, b: Xy) => (a.x - b.x) ** 2 + (a.y - b.y) ** 2

/** Nearest-neighbour chains from the point farthest from the centroid (an end of the street). */
function chain(pts: Xy[]): Xy[][] {
  const left = pts.slice()
  const runs: Xy[][] = []
  while (left.length > 0) {
    const cx = left.reduce((s, p) => s + p.x, 0) / left.length
    const cy = left.reduce((s, p) => s + p.y, 0) / left.length
    let start = 0
    let far = -1
    left.forEach((p, k) => {
      const d = (p.x - cx) ** 2 + (p.y - cy) ** 2
      if (d > far) { far = d; start = k }
    })
    let current = left.splice(start, 1)[0]!
    const run = [current]
    while (left.length > 0) {
      let best = 0
      let bestD = Infinity
      for (let k = 0; k < left.length; k++) {
        const d = dist2(current, left[k]!)
        if (d < bestD) { bestD = d; best = k }
      }
      if (bestD > MAX_GAP_M ** 2) break
      current = left.splice(best, 1)[0]!
      run.push(current)
    }
    runs.push(run)
  }
  return runs
}

function smooth(run: Xy[]): Xy[] {
  if (run.length < 3) return run
  return run.map((p, k) => {
    const from = Math.max(0, k - SMOOTH_WINDOW)
    const to = Math.min(run.length - 1, k + SMOOTH_WINDOW)
    let x = 0
    let y = 0
    for (let j = from; j <= to; j++) { x += run[j]!.x; y += run[j]!.y }
    const n = to - from + 1
    return { x: x / n, y: y / n, i: p.i }
  })
}

/** Douglas–Peucker, iterative. */
function simplify(line: Xy[], tolerance: number): Xy[] {
  if (line.length < 3) return line
  const keep = new Uint8Array(line.length)
  keep[0] = 1
  keep[line.length - 1] = 1
  const stack: [number, number][] = [[0, line.length - 1]]
  while (stack.length > 0) {
    const [a, b] = stack.pop()!
    let worst = -1
    let worstD = tolerance
    for (let k = a + 1; k < b; k++) {
      const d = segmentDistance(line[k]!, line[a]!, line[b]!)
      if (d > worstD) { worstD = d; worst = k }
    }
    if (worst >= 0) {
      keep[worst] = 1
      stack.push([a, worst], [worst, b])
    }
  }
  return line.filter((_, k) => keep[k] === 1)
}

function segmentDistance(p: Xy, a: Xy, b: Xy): number {
  const dx = b.x - a.x
  const dy = b.y - a.y
  const len2 = dx * dx + dy * dy
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2))
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy))
}
