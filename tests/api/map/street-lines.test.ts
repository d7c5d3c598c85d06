import { expect, test } from 'vitest'
import { deriveStreetLines, type PlacedPoint } from '../../../api/map/street-lines.ts'

const M = 1 / 111_320 // one metre of latitude in degrees

/** Houses on both sides of a straight east–west road at lat 53.4, every 10 m, in shuffled order. */
function straightStreet(name: string, n: number, lon0: number, ward = 'Central'): PlacedPoint[] {
  const kx = Math.cos((53.4 * Math.PI) / 180)
  const pts = Array.from({ length: n }, (_, i) => ({ lon: lon0 + (i * 10 * M) / kx, lat: 53.4 + (i % 2 === 0 ? 8 : -8) * M, street: name, ward }))
  return pts.map((p, i) => ({ p, k: (i * 7919) % n })).sort((a, b) => a.k - b.k).map((x) => x.p)
}

test('a two-sided street becomes one line along the middle of the road, from one end to the other', () => {
  const pts = straightStreet('Long Lane', 40, -2.99)
  const { streets, streetOf } = deriveStreetLines(pts)
  expect(streets).toHaveLength(1)
  const line = streets[0]!
  expect(line.name).toBe('Long Lane')
  expect(line.ward).toBe('Central')
  expect([...streetOf]).toEqual(pts.map(() => 0))
  const lons = line.path.filter((_, i) => i % 2 === 0)
  const lats = line.path.filter((_, i) => i % 2 === 1)
  // Simplified to a few points, monotonic along the street, close to the centre line.
  expect(lons.length).toBeLessThan(10)
  const ascending = lons.every((v, i) => i === 0 || v > lons[i - 1]!)
  const descending = lons.every((v, i) => i === 0 || v < lons[i - 1]!)
  expect(ascending || descending).toBe(true)
  for (const lat of lats.slice(1, -1)) expect(Math.abs(lat - 53.4) / M).toBeLessThan(4)
  expect(Math.max(...lons) - Math.min(...lons)).toBeGreaterThan((300 * M) / Math.cos((53.4 * Math.PI) / 180))
})

test('one name far apart, or in another ward, makes separate lines; unnamed households get none', () => {
  const pts = [...straightStreet('High Street', 10, -2.99), ...straightStreet('High Street', 10, -2.95), ...straightStreet('High Street', 5, -2.99, 'North'), { lon: -2.9, lat: 53.41, street: null, ward: null }]
  const { streets, streetOf } = deriveStreetLines(pts)
  expect(streets.map((s) => `${s.name}/${s.ward}`).sort()).toEqual(['High Street/Central', 'High Street/Central', 'High Street/North'])
  expect(new Set([...streetOf].slice(0, 10)).size).toBe(1)
  expect(streetOf[0]).not.toBe(streetOf[10])
  expect(streetOf[pts.length - 1]).toBe(-1)
})

test('a crescent is followed round its bend', () => {
  // A half circle of radius 150 m: every step along the chain is short, so no chord is drawn across.
  const kx = Math.cos((53.4 * Math.PI) / 180)
  const pts = Array.from({ length: 30 }, (_, i) => {
    const a = (Math.PI * i) / 29
    return { lon: -2.99 + (150 * Math.cos(a) * M) / kx, lat: 53.4 + 150 * Math.sin(a) * M, street: 'The Crescent', ward: null }
  }).reverse()
  const { streets } = deriveStreetLines(pts)
  expect(streets).toHaveLength(1)
  const path = streets[0]!.path
  for (let i = 2; i < path.length; i += 2) {
    const dx = ((path[i]! - path[i - 2]!) * kx) / M
    const dy = (path[i + 1]! - path[i - 1]!) / M
    expect(Math.hypot(dx, dy)).toBeLessThan(100) // the crescent is 300 m across
  }
})
