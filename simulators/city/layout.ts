// Where the houses are. The city grows outwards from its centre in 400 m neighbourhood cells, each
// with its own street orientation; streets run in rows of short segments (80–190 m, like real
// residential streets) with houses on both sides, terraced near the centre and wider apart in the
// suburbs, and the odd park or industrial estate left empty.
//
// The route order that rounds follow comes from here too: cells in Hilbert-curve order (so that a
// run of consecutive cells is a compact area), rows within a cell driven back and forth, and both
// sides of a street collected on one pass.
import type { Random } from '../random.ts'
import { POSTCODE_UNIT_LETTERS, streetNames, wardNames } from './names.ts'

export interface LatLon { lat: number; lon: number }

export interface PlacedHouse {
  /** Position in route order (the household's index in the city). */
  index: number
  street: number
  houseNumber: number
  lat: number
  lon: number
  ward: number
  postcode: string
}

export interface LaidStreet {
  index: number
  name: string
  ward: number
  /** Household indices along the street, in driving order. */
  houses: number[]
  from: LatLon
  to: LatLon
}

export interface Layout {
  houses: PlacedHouse[]
  streets: LaidStreet[]
  wards: string[]
  /** Radius of the built-up area, metres. */
  radiusM: number
}

const CELL_M = 400
const ROW_SPACING_M = 80
const SETBACK_M = 9
const HOUSES_PER_WARD = 3_300 // Liverpool: ~207,000 households in 64 wards
const HOUSES_PER_DISTRICT = 5_500 // Liverpool: L1–L38

interface Cell { gx: number; gy: number; cx: number; cy: number; theta: number; frontage: number; streets: CellStreet[]; hilbert: number }
interface CellStreet { row: number; x0: number; x1: number; y: number; sides: 1 | 2; houses: { s: number; side: 1 | -1 }[] }

export function metresToLatLon(centre: LatLon, x: number, y: number): LatLon {
  const mLat = 1 / 111_320
  const mLon = 1 / (111_320 * Math.cos((centre.lat * Math.PI) / 180))
  return { lat: round6(centre.lat + y * mLat), lon: round6(centre.lon + x * mLon) }
}
const round6 = (v: number) => Math.round(v * 1e6) / 1e6

/** Distance in metres between two points (equirectangular: exact enough within a city). */
export function distanceM(a: LatLon, b: LatLon): number {
  const k = Math.cos((((a.lat + b.lat) / 2) * Math.PI) / 180)
  const dy = (b.lat - a.lat) * 111_320
  const dx = (b.lon - a.lon) * 111_320 * k
  return Math.sqrt(dx * dx + dy * dy)
}

/** Index of (x, y) along a Hilbert curve filling a 2^order square. */
function hilbertIndex(order: number, x: number, y: number): number {
  let d = 0
  for (let s = 1 << (order - 1); s > 0; s >>= 1) {
    const rx = (x & s) > 0 ? 1 : 0
    const ry = (y & s) > 0 ? 1 : 0
    d += s * s * ((3 * rx) ^ ry)
    if (ry === 0) {
      if (rx === 1) { x = s - 1 - x; y = s - 1 - y }
      ;[x, y] = [y, x]
    }
  }
  return d
}

function planCell(rng: Random, cell: Cell): void {
  for (let row = 0; row < CELL_M / ROW_SPACING_M; row++) {
    const y = -CELL_M / 2 + ROW_SPACING_M / 2 + row * ROW_SPACING_M
    let x = -CELL_M / 2 + 10
    while (x < CELL_M / 2 - 60) {
      const length = Math.min(rng.between(70, 190), CELL_M / 2 - 10 - x)
      // One street in eight faces a park, a railway or a main road: houses on one side only.
      const sides: 1 | 2 = rng.chance(0.125) ? 1 : 2
      const houses: CellStreet['houses'] = []
      for (let s = cell.frontage / 2; s < length; s += cell.frontage) {
        houses.push({ s, side: 1 })
        if (sides === 2) houses.push({ s, side: -1 })
      }
      cell.streets.push({ row, x0: x, x1: x + length, y, sides, houses })
      x += length + 20 // a junction between segments
    }
  }
}

/** Lay out exactly `households` houses around `centre`. */
export function layOutCity(rng: Random, households: number, centre: LatLon): Layout {
  if (!Number.isInteger(households) || households < 1) throw new RangeError('households must be a positive integer')
  // Cells in order of distance from the centre (with a little noise, for a ragged edge).
  const estimateCells = households / 250 + 8
  const radiusCells = Math.ceil(Math.sqrt(estimateCells / Math.PI) * 1.6) + 2
  const order = Math.max(1, Math.ceil(Math.log2(2 * radiusCells + 1)))
  const grid: { gx: number; gy: number; d: number }[] = []
  for (let gx = -radiusCells; gx <= radiusCells; gx++) {
    for (let gy = -radiusCells; gy <= radiusCells; gy++) grid.push({ gx, gy, d: Math.hypot(gx, gy) + rng.between(-0.6, 0.6) })
  }
  grid.sort((a, b) => a.d - b.d)
  const expectedRadiusM = Math.sqrt(households / 2_000 / Math.PI) * 1000 // ~2,000 households per km²

  const cells: Cell[] = []
  let placed = 0
  for (const g of grid) {
    if (placed >= households) break
    const cx = g.gx * CELL_M
    const cy = g.gy * CELL_M
    // Parks, schools, industry: a tenth of the cells away from the very centre hold no houses.
    if (cells.length > 3 && rng.chance(0.1)) continue
    const distance = Math.hypot(cx, cy)
    const frontage = 5.5 + 5.5 * Math.min(1, distance / Math.max(800, expectedRadiusM)) + rng.between(-0.5, 1)
    const cell: Cell = { gx: g.gx, gy: g.gy, cx, cy, theta: rng.between(0, Math.PI), frontage, streets: [], hilbert: hilbertIndex(order, g.gx + radiusCells, g.gy + radiusCells) }
    planCell(rng, cell)
    // Keep only as many houses as the city needs: the last cell is partly built.
    for (const street of cell.streets) {
      const room = households - placed
      if (street.houses.length > room) street.houses.length = room
      placed += street.houses.length
    }
    cell.streets = cell.streets.filter((s) => s.houses.length > 0)
    cells.push(cell)
  }
  if (placed < households) throw new RangeError(`could not place ${households} households (placed ${placed}); the grid estimate is too small`)
  cells.sort((a, b) => a.hilbert - b.hilbert)

  const names = streetNames(rng.fork('street-names'), cells.reduce((n, c) => n + c.streets.length, 0))
  const houses: PlacedHouse[] = []
  const streets: LaidStreet[] = []
  const cellOfStreet: number[] = []
  for (const [ci, cell] of cells.entries()) {
    const cos = Math.cos(cell.theta)
    const sin = Math.sin(cell.theta)
    const toLatLon = (x: number, y: number) => metresToLatLon(centre, cell.cx + x * cos - y * sin, cell.cy + x * sin + y * cos)
    // Rows back and forth; within a row the segments in the direction of travel.
    const rows = [...new Set(cell.streets.map((s) => s.row))]
    for (const [ri, row] of rows.entries()) {
      const forward = ri % 2 === 0
      const inRow = cell.streets.filter((s) => s.row === row).sort((a, b) => (forward ? a.x0 - b.x0 : b.x0 - a.x0))
      for (const st of inRow) {
        const index = streets.length
        const along = st.houses.slice().sort((a, b) => (forward ? a.s - b.s : b.s - a.s) || b.side - a.side)
        const street: LaidStreet = { index, name: names[index]!, ward: 0, houses: [], from: toLatLon(forward ? st.x0 : st.x1, st.y), to: toLatLon(forward ? st.x1 : st.x0, st.y) }
        for (const h of along) {
          const slot = Math.round((h.s - cell.frontage / 2) / cell.frontage)
          const position = toLatLon(st.x0 + h.s, st.y + h.side * SETBACK_M)
          const houseNumber = st.sides === 1 ? slot + 1 : h.side === 1 ? 2 * slot + 1 : 2 * slot + 2
          street.houses.push(houses.length)
          houses.push({ index: houses.length, street: index, houseNumber, lat: position.lat, lon: position.lon, ward: 0, postcode: '' })
        }
        streets.push(street)
        cellOfStreet.push(ci)
      }
    }
  }

  // Wards and postcode districts: compact areas around centres spread evenly along the route, so
  // that their boundaries fall independently of the round boundaries.
  const wardCount = Math.min(64, Math.max(1, Math.round(households / HOUSES_PER_WARD)))
  const districtCount = Math.min(38, Math.max(1, Math.round(households / HOUSES_PER_DISTRICT)))
  const cellWard = nearestCentre(cells, houses, wardCount, 0.5)
  const cellDistrict = nearestCentre(cells, houses, districtCount, 0.25)
  // District numbers grow outwards from the centre, as Liverpool's L1 is the city centre.
  const districtRank = rankByDistance(cells, cellDistrict, districtCount)
  const wards = wardNames(rng.fork('ward-names'), wardCount)
  for (const street of streets) street.ward = cellWard[cellOfStreet[street.index]!]!

  const sectorCells = new Map<number, number[]>()
  for (const [ci] of cells.entries()) {
    const d = cellDistrict[ci]!
    const list = sectorCells.get(d)
    if (list) list.push(ci)
    else sectorCells.set(d, [ci])
  }
  const sectorOfCell = new Map<number, number>()
  for (const list of sectorCells.values()) list.forEach((ci, i) => sectorOfCell.set(ci, 1 + Math.floor((i * 9) / list.length)))
  const unitCounter = new Map<string, { unit: number; left: number }>()
  for (const street of streets) {
    const ci = cellOfStreet[street.index]!
    const outward = `L${districtRank[cellDistrict[ci]!]! + 1}`
    const sector = `${outward} ${sectorOfCell.get(ci)!}`
    for (const hi of street.houses) {
      const house = houses[hi]!
      house.ward = street.ward
      let u = unitCounter.get(sector)
      if (!u || u.left === 0) {
        // A postcode unit covers about 15 addresses.
        u = { unit: u ? u.unit + 1 : 0, left: rng.int(10, 20) }
        unitCounter.set(sector, u)
      }
      u.left--
      const n = u.unit % (POSTCODE_UNIT_LETTERS.length * POSTCODE_UNIT_LETTERS.length)
      house.postcode = `${sector}${POSTCODE_UNIT_LETTERS[Math.floor(n / POSTCODE_UNIT_LETTERS.length)]}${POSTCODE_UNIT_LETTERS[n % POSTCODE_UNIT_LETTERS.length]}`
    }
  }

  let radiusM = 0
  for (const c of cells) radiusM = Math.max(radiusM, Math.hypot(c.cx, c.cy) + CELL_M / 2)
  return { houses, streets, wards, radiusM }
}

/** Assign each cell to the nearest of `count` centres taken at even spacing along the route. */
function nearestCentre(cells: Cell[], houses: PlacedHouse[], count: number, offset: number): number[] {
  const perCentre = houses.length / count
  const centres: { x: number; y: number }[] = []
  let seen = 0
  for (const cell of cells) {
    const n = cell.streets.reduce((s, st) => s + st.houses.length, 0)
    while (centres.length < count && seen + n > (centres.length + offset) * perCentre) centres.push({ x: cell.cx, y: cell.cy })
    seen += n
  }
  while (centres.length < count) centres.push({ x: cells[cells.length - 1]!.cx, y: cells[cells.length - 1]!.cy })
  return cells.map((cell) => {
    let best = 0
    let bestD = Infinity
    for (const [i, ce] of centres.entries()) {
      const d = (ce.x - cell.cx) ** 2 + (ce.y - cell.cy) ** 2
      if (d < bestD) { bestD = d; best = i }
    }
    return best
  })
}

function rankByDistance(cells: Cell[], assignment: number[], count: number): number[] {
  const sum = Array.from({ length: count }, () => ({ d: 0, n: 0 }))
  cells.forEach((cell, i) => {
    const s = sum[assignment[i]!]!
    s.d += Math.hypot(cell.cx, cell.cy)
    s.n++
  })
  const order = sum.map((s, i) => ({ i, d: s.n ? s.d / s.n : Infinity })).sort((a, b) => a.d - b.d)
  const rank: number[] = []
  order.forEach((o, r) => { rank[o.i] = r })
  return rank
}
