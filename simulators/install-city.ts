// Putting a generated city into a Kerbside database: its devices, provisioned with one shared secret
// (one scrypt hash for the whole fleet; the broker caches a successful check per stored hash, so
// a fleet that shares a hash costs a single slow check), then the registry through the registry
// import (which fits each device to its bin or vehicle), then the collection calendar.
import { addDays } from '../analysis/calendar/dates.ts'
import { generateSecret, hashSecret } from '../core/secrets.ts'
import type { Database } from '../storage/database.ts'
import { provisionDevices } from '../storage/devices.ts'
import { importRegistry, type ImportProgress, type ImportReport } from '../storage/registry/import.ts'
import type { City } from './city/city.ts'

export interface InstallOptions {
  /** Secret every simulated device logs in with; generated when not given. */
  secret?: string
  /**
   * Calendar range to generate; default the city's start and the eight weeks after it, with
   * "today" the day before the start, so that the simulated days are all generated.
   */
  calendar?: { from: string; to: string; today?: string } | false
  onProgress?: (p: ImportProgress) => void
}

export interface InstalledCity {
  secret: string
  /** Devices newly provisioned; devices that already existed keep their own secret. */
  provisioned: number
  alreadyProvisioned: number
  report: ImportReport
}

export class CityInstallError extends Error {
  override name = 'KERBSIDE_ERR_CITY_INSTALL'
  constructor(message: string, readonly report?: ImportReport) {
    super(message)
  }
}

const CHUNK = 10_000

export async function installCity(db: Database, city: City, opts: InstallOptions = {}): Promise<InstalledCity> {
  const secret = opts.secret ?? generateSecret()
  const secretHash = await hashSecret(secret)
  // Devices first, not yet fitted: the import checks they exist and fits them (sensorDeviceId,
  // unitDeviceId), because a device row cannot name a bin before the bin is in the registry.
  let provisioned = 0
  for (let i = 0; i < city.devices.length; i += CHUNK) {
    provisioned += await provisionDevices(db, city.devices.slice(i, i + CHUNK).map((d) => ({ deviceId: d.deviceId, kind: d.kind, secretHash })))
  }
  const start = city.options.start
  const calendar = opts.calendar ?? { from: start, to: addDays(start, 56), today: addDays(start, -1) }
  const report = await importRegistry(db, city.dataset, { calendar, onProgress: opts.onProgress })
  if (!report.ok) {
    const first = report.errors.slice(0, 5).map((e) => `${e.entity} row ${e.row}${e.field ? ` (${e.field})` : ''}: ${e.message}`).join('; ')
    throw new CityInstallError(`the registry import refused the generated city (${report.errors.length} errors): ${first}`, report)
  }
  return { secret, provisioned, alreadyProvisioned: city.devices.length - provisioned, report }
}
