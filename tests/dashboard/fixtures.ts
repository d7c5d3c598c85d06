// A small city in the map API's own shape (CityMap), for state and component tests.
import type { CityMap } from '../../dashboard/src/lib/api-types.ts'

export const NOW = Date.parse('2026-11-20T12:00:00Z')
const s = (ms: number) => Math.floor(ms / 1000)

export function smallCity(): CityMap {
  return {
    generatedAt: new Date(NOW).toISOString(),
    hours: 6,
    bounds: [-2.992, 53.408, -2.99, 53.409],
    wards: ['Central'],
    streams: ['residual', 'recycling', 'garden', 'food', 'glass'],
    streets: [{ name: 'Test Street', ward: 'Central', path: [-2.992, 53.408, -2.99, 53.408] }, { name: 'Other Road', ward: 'Central', path: [-2.992, 53.409, -2.99, 53.409] }],
    households: { uprn: [100000000001, 100000000002, 100000000003], lat: [53.408, 53.408, 53.409], lon: [-2.992, -2.991, -2.99], street: [0, 0, 1], ward: [0, 0, -1] },
    bins: {
      household: [0, 0, 1, 2],
      binId: ['bin-1r', 'bin-1y', 'bin-2r', 'bin-3r'],
      stream: [0, 1, 0, 0],
      deviceId: ['s-1r', 's-1y', 's-2r', null],
      online: [true, true, true, null],
      fillPct: [40, 95, 60, null],
      readingAt: [s(NOW - 60_000), s(NOW - 120_000), s(NOW - 60_000), null],
      status: ['ok', 'ok', 'ok', null],
      tempC: [10, 11, 12, null],
      batteryV: [3.6, 3.6, 3.6, null],
    },
    vehicles: [{ vehicleId: 'rcv-1', registration: 'KB26 RCV', deviceId: 'unit-1', online: true, lat: 53.408, lon: -2.992, speedKmh: 0, heading: 0, positionAt: new Date(NOW - 60_000).toISOString() }],
    lifts: { ts: [s(NOW - 600_000)], vehicleId: ['rcv-1'], binId: ['bin-2r'], uprn: [100000000002], lat: [53.408], lon: [-2.991], outcome: ['collected'], weightKg: [12] },
    alerts: [{ kind: 'overflow', bin: 1, value: 95 }],
    thresholds: { fireTempC: 60, overflowPct: 90, offlineAfterMs: 10_800_000, lowBatteryV: 3.3 },
    baseMap: null,
  }
}
