// Street names on the map when no tile server draws them: each name is written along the longest
// straight stretch of its line that can hold it, turned to read left to right, and left out where it
// would overlap a name already written (the longest streets are written first).

export interface LabelLine {
  name: string
  /** Screen pixels, flattened [x, y, x, y, …]. */
  points: ArrayLike<number>
}

interface Box { x0: number; y0: number; x1: number; y1: number }

const FONT = '600 11px system-ui, sans-serif'
const PADDING = 4

/** Where a name goes: the middle of the line's longest segment, its angle, and that segment's length. */
export function labelPlacement(points: ArrayLike<number>): { x: number; y: number; angle: number; length: number } | null {
  let best = -1
  let bestLen = 0
  for (let k = 0; k + 3 < points.length; k += 2) {
    const len = Math.hypot(points[k + 2]! - points[k]!, points[k + 3]! - points[k + 1]!)
    if (len > bestLen) { bestLen = len; best = k }
  }
  if (best < 0) return null
  const x0 = points[best]!, y0 = points[best + 1]!, x1 = points[best + 2]!, y1 = points[best + 3]!
  let angle = Math.atan2(y1 - y0, x1 - x0)
  // Never upside down.
  if (angle > Math.PI / 2) angle -= Math.PI
  if (angle < -Math.PI / 2) angle += Math.PI
  return { x: (x0 + x1) / 2, y: (y0 + y1) / 2, angle, length: bestLen }
}

/** Write the names on `ctx`; returns how many were written. */
export function drawStreetLabels(ctx: CanvasRenderingContext2D, lines: readonly LabelLine[], width: number, height: number): number {
  ctx.save()
  ctx.font = FONT
  ctx.textAlign = 'center'
  ctx.textBaseline = 'middle'
  ctx.lineJoin = 'round'
  const placed: Box[] = []
  const candidates = lines
    .map((l) => ({ name: l.name, at: labelPlacement(l.points) }))
    .filter((c): c is { name: string; at: NonNullable<ReturnType<typeof labelPlacement>> } => c.at !== null)
    .sort((a, b) => b.at.length - a.at.length)
  let written = 0
  for (const { name, at } of candidates) {
    if (at.x < 0 || at.y < 0 || at.x > width || at.y > height) continue
    const w = ctx.measureText(name).width
    if (w + PADDING * 2 > at.length) continue
    // The box of the turned text, as an upright rectangle: generous, never lets two names touch.
    const c = Math.abs(Math.cos(at.angle)), s = Math.abs(Math.sin(at.angle))
    const hw = (w * c + 12 * s) / 2 + PADDING, hh = (w * s + 12 * c) / 2 + PADDING
    const box = { x0: at.x - hw, y0: at.y - hh, x1: at.x + hw, y1: at.y + hh }
    if (placed.some((p) => p.x0 < box.x1 && box.x0 < p.x1 && p.y0 < box.y1 && box.y0 < p.y1)) continue
    placed.push(box)
    ctx.setTransform(ctx.getTransform().translate(at.x, at.y).rotate(at.angle))
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.9)'
    ctx.lineWidth = 3
    ctx.strokeText(name, 0, 0)
    ctx.fillStyle = '#374151'
    ctx.fillText(name, 0, 0)
    ctx.setTransform(ctx.getTransform().rotate(-at.angle).translate(-at.x, -at.y))
    written++
  }
  ctx.restore()
  return written
}
