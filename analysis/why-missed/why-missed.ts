// Why bins are missed, for a contract over a range: the breakdowns (breakdowns.ts), the hotspots
// among streets and grid cells, the households with repeat misses, and the cost of return trips.
// 250 m cells (the default) are answered from the why-missed roll-up (rollup.ts); other sizes by
// one pass over the outcomes. Both give the same answer (tests/analysis/why-missed).
import type { Queryable } from '../../storage/database.ts'
import { checkRange, type DateRange } from '../performance/periods.ts'
import { DEFAULT_TIME_ZONE } from '../performance/rollup.ts'
import { contractTerms } from '../performance/terms.ts'
import { breakdowns, cellNames, rolledUpBreakdowns, ROLLUP_CELL_M, type BreakdownRow, type Dimension } from './breakdowns.ts'
import type { KeptBreakdowns } from './kept.ts'
import { repeatHouseholds, type RepeatHousehold } from './repeat-households.ts'
import { returnTripCost, type ReturnTripCost } from './return-trips.ts'

export interface WhyMissedOptions extends DateRange {
  timeZone?: string
  /** Grid cell side in metres (default 250). */
  cellM?: number
  /** Streets and cells with fewer decided collections are not hotspots: a rate on a handful says nothing (default 20). */
  minScheduled?: number
  /** Hotspots and repeat households listed (default 25 and 50). */
  hotspots?: number
  households?: number
  /** Rows of each breakdown (default 100): those with the most misses, in the breakdown's own order; `rowCounts` says how many there are. */
  rows?: number
  /** Answer from one pass over the outcomes even at 250 m (the ground truth the roll-up is tested against). */
  direct?: boolean
}

export interface Breakdown extends Omit<BreakdownRow, 'dimension' | 'lat' | 'lon' | 'ward' | 'mainStreet'> {
  missedPer100k: number | null
  /** Rounds: the round's name in the registry. */
  name?: string
}

export interface Hotspot extends Breakdown {
  kind: 'street' | 'cell'
  /** The street's ward, or the ward most of a cell's collections are in. */
  ward: string | null
  /** What to call it: the street, or for a cell "Around" the street most of its collections are on. */
  name: string
  /** The households' mean position (streets), or the cell's centre (cells). */
  lat: number
  lon: number
}

export interface WhyMissed {
  contractId: string
  from: string
  to: string
  total: Breakdown
  by: Record<BreakdownDimension, Breakdown[]> & { street: (Breakdown & { ward: string | null })[] }
  /** How many rows each breakdown has in all (`by` gives at most `rows` of them). */
  rowCounts: Record<BreakdownDimension | 'street', number>
  hotspots: { cellM: number; minScheduled: number; streets: Hotspot[]; cells: Hotspot[] }
  repeatHouseholds: { total: number; households: RepeatHousehold[] }
  returnTrips: ReturnTripCost
}

type BreakdownDimension = Exclude<Dimension, 'total' | 'cell' | 'street'>

/** Rows of each breakdown answered unless asked otherwise: a city has thousands of streets, and a screen shows the worst. */
export const DEFAULT_BREAKDOWN_ROWS = 100

const per100k = (r: { missed: number; scheduled: number }) => (r.scheduled > 0 ? (r.missed / r.scheduled) * 100_000 : null)
const strip = ({ dimension: _d, lat: _la, lon: _lo, ward: _w, mainStreet: _m, ...r }: BreakdownRow): Breakdown => ({ ...r, missedPer100k: per100k(r) })

/** Worst first: misses per 100,000, then the number of misses, then by name (and ward: two streets may share a name). */
const worstFirst = (a: Breakdown & { ward?: string | null }, b: Breakdown & { ward?: string | null }) =>
  (b.missedPer100k ?? 0) - (a.missedPer100k ?? 0) || b.missed - a.missed || byText(a.key, b.key) || byText(a.ward ?? '', b.ward ?? '')
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

const NATURAL_ORDER: Partial<Record<Dimension, (a: Breakdown, b: Breakdown) => number>> = {
  weekday: (a, b) => Number(a.key) - Number(b.key),
  hour: (a, b) => (a.key === 'not_passed' ? 1 : b.key === 'not_passed' ? -1 : Number(a.key) - Number(b.key)),
  window: (a, b) => ['before', 'within', 'after', 'not_passed'].indexOf(a.key) - ['before', 'within', 'after', 'not_passed'].indexOf(b.key),
}

export async function whyMissed(db: Queryable, contractId: string, opts: WhyMissedOptions): Promise<WhyMissed> {
  const range = checkRange({ from: opts.from, to: opts.to })
  const terms = await contractTerms(db, contractId)
  const cellM = opts.cellM ?? 250
  const minScheduled = opts.minScheduled ?? 20
  const input = { contractId, ...range, timeZone: opts.timeZone ?? DEFAULT_TIME_ZONE, cellM }
  // `direct` only as the boolean the tests pass: the route spreads its query string in here.
  const rolledUp = cellM === ROLLUP_CELL_M && opts.direct !== true
  const rolled = rolledUp ? await rolledUpBreakdowns(db, input) : null
  const rows = rolled ? rolled.rows : await breakdowns(db, input)
  // The figures are a function of the rows and the hotspot options: made once per kept entry.
  const shape = JSON.stringify([minScheduled, opts.hotspots ?? 25])
  const figures = rolled?.kept?.figures.get(shape) as Figures | undefined
    ?? await figuresOf(rows, { cellM, minScheduled, hotspots: opts.hotspots ?? 25 }, (keys) => rolled ? namesOf(db, rolled.kept, { ...input, keys }) : Promise.resolve(null))
  if (rolled?.kept && !rolled.kept.figures.has(shape)) {
    if (rolled.kept.figures.size >= 16) rolled.kept.figures.clear()
    rolled.kept.figures.set(shape, figures)
  }
  const { total } = figures
  const limit = opts.rows ?? DEFAULT_BREAKDOWN_ROWS
  // The rows answered, chosen among a city's thousands of streets: kept with the figures they were cut from.
  const cutKey = JSON.stringify([shape, 'rows', limit])
  let cut = rolled?.kept?.figures.get(cutKey) as Pick<WhyMissed, 'by' | 'rowCounts'> | undefined
  if (!cut) {
    cut = { by: {} as WhyMissed['by'], rowCounts: {} as WhyMissed['rowCounts'] }
    for (const [d, list] of Object.entries(figures.by) as [keyof WhyMissed['by'], Breakdown[]][]) {
      cut.rowCounts[d] = list.length
      ;(cut.by as Record<string, Breakdown[]>)[d] = mostMissed(list, limit)
    }
    if (rolled?.kept) {
      if (rolled.kept.figures.size >= 16) rolled.kept.figures.clear()
      rolled.kept.figures.set(cutKey, cut)
    }
  }
  const { rowCounts } = cut
  const by = { ...cut.by, round: await withRoundNames(db, cut.by.round) }
  return {
    contractId, ...range,
    ...figures,
    by, rowCounts,
    repeatHouseholds: await repeatHouseholds(db, { contractId, ...range, repeatWindowDays: terms.repeatWindowDays, limit: opts.households ?? 50 }),
    returnTrips: returnTripCost(total.returnVisits, total.collectedLate, terms),
  }
}

type Figures = Pick<WhyMissed, 'total' | 'by' | 'hotspots'>

/** At most `limit` rows: those with the most misses (then the highest rate, then by key), kept in the list's own order. */
function mostMissed<T extends Breakdown>(list: T[], limit: number): T[] {
  if (list.length <= limit) return list
  const keep = new Set([...list].sort((a, b) => b.missed - a.missed || (b.missedPer100k ?? 0) - (a.missedPer100k ?? 0) || byText(a.key, b.key)).slice(0, limit))
  return list.filter((r) => keep.has(r))
}

/** The rounds' names from the registry, for the rows shown. */
async function withRoundNames(db: Queryable, rows: Breakdown[]): Promise<Breakdown[]> {
  if (rows.length === 0) return rows
  const { rows: names } = await db.query<{ id: string; name: string }>('SELECT round_id AS id, name FROM rounds WHERE round_id = ANY($1::text[])', [rows.map((r) => r.key)])
  const nameOf = new Map(names.map((n) => [n.id, n.name]))
  return rows.map((r) => ({ ...r, name: nameOf.get(r.key) ?? r.key }))
}

/** The breakdowns and hotspots from the rows; `names` names the cells shown (null: the rows name them). */
async function figuresOf(rows: readonly BreakdownRow[], o: { cellM: number; minScheduled: number; hotspots: number },
  names: (keys: string[]) => Promise<Map<string, { ward: string | null; mainStreet: string | null }> | null>): Promise<Figures> {
  const { cellM, minScheduled } = o
  const of = (d: Dimension) => rows.filter((r) => r.dimension === d)
  const by = {} as WhyMissed['by']
  for (const d of ['round', 'ward', 'vehicle', 'stream', 'weekday', 'hour', 'window'] as const) by[d] = of(d).map(strip).sort(NATURAL_ORDER[d] ?? worstFirst)
  by.street = of('street').map((r) => ({ ...strip(r), ward: r.ward })).sort(worstFirst)

  const hot = (r: BreakdownRow) => r.missed > 0 && r.scheduled >= minScheduled && r.lat !== null && r.lon !== null
  const streets: Hotspot[] = of('street').filter(hot).map((r) => ({ ...strip(r), kind: 'street' as const, name: r.key, ward: r.ward, lat: r.lat!, lon: r.lon! }))
  // Cells are ranked by their counts alone; the roll-up's cells are named once chosen (cellNames).
  const shown = of('cell').filter(hot).map((r) => ({ row: r, b: strip(r) })).sort((x, y) => worstFirst(x.b, y.b)).slice(0, o.hotspots)
  const named = await names(shown.map((c) => c.row.key))
  const cells: Hotspot[] = shown.map(({ row: r, b }) => {
    const centre = cellCentre(r.key, cellM)
    const { ward, mainStreet } = named ? (named.get(r.key) ?? { ward: null, mainStreet: null }) : r
    return { ...b, kind: 'cell' as const, name: mainStreet ? `Around ${mainStreet}` : `Area near ${centre.lat.toFixed(4)}, ${centre.lon.toFixed(4)}`, ward, ...centre }
  })
  const total = of('total')[0] ?? { dimension: 'total', key: '', ward: null, mainStreet: null, scheduled: 0, missed: 0, collectedLate: 0, crewExceptions: 0, returnVisits: 0, exceptionsByCode: {}, lat: null, lon: null }
  return {
    total: strip(total),
    by,
    hotspots: { cellM, minScheduled, streets: streets.sort(worstFirst).slice(0, o.hotspots), cells },
  }
}

/** The cells' names, kept with the breakdowns they were chosen from when those are kept (kept.ts). */
async function namesOf(db: Queryable, kept: KeptBreakdowns | null, input: Parameters<typeof cellNames>[1]): ReturnType<typeof cellNames> {
  const asked = input.keys.join(',')
  const known = kept?.names.get(asked)
  if (known) return known
  const names = await cellNames(db, input)
  if (kept) {
    if (kept.names.size >= 8) kept.names.clear()
    kept.names.set(asked, names)
  }
  return names
}

/** The centre of grid cell 'y:x' (breakdowns.ts: rows of `cellM` metres, each as wide as tall at its latitude). */
export function cellCentre(key: string, cellM: number): { lat: number; lon: number } {
  const [y, x] = key.split(':').map(Number) as [number, number]
  const lat = ((y + 0.5) * cellM) / 111_320
  const lon = ((x + 0.5) * cellM) / (111_320 * Math.cos((lat * Math.PI) / 180))
  return { lat: Math.round(lat * 1e6) / 1e6, lon: Math.round(lon * 1e6) / 1e6 }
}
