// The access model, written once: for every operation of the API, the roles that may call it and
// the personal fields its answer carries, by class. docs/data-protection.md and SECURITY.md show it
// as a table; api/plugins/audit.ts enforces it on every answer (fields of a class the
// caller's role may not see are removed, and every answer that still carries personal data is
// written to the audit log); api/plugins/auth.ts refuses to start when a route's own
// `requireRole(...)` disagrees with the roles here; tests/api/access-model.test.ts calls every
// operation with every kind of credential and compares the answers with this table.
//
// Classes of personal field (docs/data-protection.md, "What Kerbside holds about people"):
// - household: what identifies a property and so its occupants: UPRN, house address, the property's
//   position, the assisted-collection flag, the RFID tags of its bins. Roles that may read a
//   household's record: crm and contract_manager (and admin).
// - customer: the council's customer record and what residents wrote: CRM references, the free
//   text and photo link of a missed-bin report, the reporter's CRM account id. crm (and admin).
// Bulk exports of the whole registry carry personal fields for admin only; viewer (the wallboard)
// and provisioning never see a personal field, except where an entry lists it under `everyone`
// (said in the table with its reason).
import type { Role } from '../storage/api-keys.ts'

export type PersonalClass = 'household' | 'customer'

/** The roles (admin besides) that may see each class of personal field. */
export const CLASS_ROLES: Record<PersonalClass, readonly Role[]> = {
  household: ['crm', 'contract_manager'],
  customer: ['crm'],
}

export interface RouteAccess {
  /** Roles that may call it (admin always may); 'public': no key needed; 'webhook': a network server's own shared secret, never an API key. */
  roles: readonly Role[] | 'public' | 'webhook'
  /** Personal fields of the answer (property names, wherever they occur in it), by class. */
  household?: readonly string[]
  customer?: readonly string[]
  /** Personal fields every caller of the route gets, and why. */
  everyone?: { fields: readonly string[]; why: string }
  /** The answer is about one household, named by the path's :uprn: all of it is personal data. */
  aboutHousehold?: boolean
  /** A bulk export: its personal fields (household and customer) for admin only. */
  bulk?: boolean
  /**
   * Rows of the answer that are each about one household (a repeatedly missed property, a return
   * collection): whole for the roles that may see households, left out for the others. Without
   * their UPRN and address such a row still singles the household out: its street and position,
   * and what was suggested from its assisted flag. `under`: the property holding the rows, wherever
   * it is in the answer (without it, the answer's own rows); `where`: only rows with these values.
   */
  householdRows?: { under?: string; where?: Readonly<Record<string, unknown>> }
  /**
   * Also answers a caller without a key (Open311 GeoReport v2 lets anyone read requests), then
   * without any of its household and customer fields. A key that is presented must still be valid.
   */
  keyless?: boolean
}

const READ_DASHBOARD = ['contract_manager', 'crm', 'viewer'] as const
const HOUSEHOLD_READERS = ['crm', 'contract_manager'] as const

/** Keyed by "METHOD /url" as fastify declares the route (`:param`). */
export const ACCESS_MODEL: Record<string, RouteAccess> = {
  'GET /healthz': { roles: 'public' },
  'GET /readyz': { roles: 'public' },
  'GET /metrics': { roles: 'public' },
  'POST /api/v1/auth/login': { roles: 'public' },
  'POST /api/v1/auth/logout': { roles: 'public' },

  'POST /api/v1/devices': { roles: ['provisioning'] },
  // The devices list shows the household of each bin sensor; roles that may not see it also cannot search by it.
  'GET /api/v1/devices': { roles: ['provisioning', 'contract_manager', 'viewer'], household: ['uprn', 'address'] },
  'GET /api/v1/device-summary': { roles: ['provisioning', 'contract_manager', 'viewer'] },
  'GET /api/v1/devices/:deviceId': { roles: ['provisioning', 'contract_manager', 'viewer', 'crm'] },
  'DELETE /api/v1/devices/:deviceId': { roles: ['provisioning'] },
  'GET /api/v1/devices/:deviceId/readings': { roles: ['contract_manager', 'crm', 'viewer'], household: ['uprn'] },
  'GET /api/v1/devices/:deviceId/readings/aggregate': { roles: ['contract_manager', 'crm', 'viewer'] },
  // LoRaWAN (api/routes/lorawan.ts): the network servers' webhooks take no API key but each server's own secret header.
  'POST /api/v1/lorawan/ttn': { roles: 'webhook' },
  'POST /api/v1/lorawan/chirpstack': { roles: 'webhook' },
  'GET /api/v1/lorawan/models': { roles: ['provisioning', 'contract_manager', 'viewer', 'crm'] },
  'PUT /api/v1/lorawan/devices/:devEui': { roles: ['provisioning'] },
  'GET /api/v1/lorawan/devices/:devEui': { roles: ['provisioning', 'contract_manager'] },
  // Refused input (api/routes/quarantine.ts): operator data. The raw payload may hold a bin's RFID tag and the position of a lift at the property.
  'GET /api/v1/quarantine': { roles: ['contract_manager', 'provisioning'] },
  'GET /api/v1/quarantine/:id': { roles: ['contract_manager', 'provisioning'], household: ['payloadText', 'payloadHex'] },

  'POST /api/v1/keys': { roles: [] },
  'GET /api/v1/keys': { roles: [] },
  'PATCH /api/v1/keys/:keyId': { roles: [] },
  'DELETE /api/v1/keys/:keyId': { roles: [] },
  'GET /api/v1/users': { roles: [] },
  'POST /api/v1/users': { roles: [] },
  'DELETE /api/v1/users/:username': { roles: [] },

  'GET /api/v1/households': { roles: HOUSEHOLD_READERS, household: ['uprn', 'address'] },
  'GET /api/v1/households/:uprn': { roles: HOUSEHOLD_READERS, aboutHousehold: true, household: ['uprn', 'address', 'lat', 'lon', 'assisted', 'rfidTag'], customer: ['crmRef'] },
  'GET /api/v1/households/:uprn/collections': { roles: HOUSEHOLD_READERS, aboutHousehold: true },
  'GET /api/v1/households/:uprn/first-contact': { roles: HOUSEHOLD_READERS, aboutHousehold: true },
  'GET /api/v1/households/:uprn/rewards': { roles: HOUSEHOLD_READERS, aboutHousehold: true, household: ['uprn'] },
  'GET /api/v1/households/:uprn/subject-access': {
    roles: [], aboutHousehold: true,
    household: ['uprn', 'address', 'lat', 'lon', 'assisted', 'rfidTag'], customer: ['crmRef', 'email', 'description', 'mediaUrl'],
  },
  'POST /api/v1/households/:uprn/erasure': { roles: [], aboutHousehold: true, household: ['uprn'] },
  'GET /api/v1/audit': { roles: [], household: ['uprn'] },
  'GET /api/v1/privacy/erasures': { roles: [], household: ['uprn'] },
  'GET /api/v1/privacy/retention': { roles: [] },

  'GET /api/v1/map': { roles: READ_DASHBOARD, everyone: { fields: ['uprn'], why: 'the map draws every household (a columnar snapshot shared by all callers); it is audited as a bulk read' } },
  'GET /api/v1/map/summary': { roles: READ_DASHBOARD },
  'GET /api/v1/map/overview': { roles: READ_DASHBOARD, everyone: { fields: ['uprn'], why: 'alerts and lifts name the household they are at, as on the whole-city map; audited as a bulk read' } },
  'GET /api/v1/map/tiles/:z/:x/:y': { roles: READ_DASHBOARD, everyone: { fields: ['uprn'], why: 'from street zoom each household drawn carries its UPRN (a binary vector tile, for choosing it); audited' } },
  'GET /api/v1/map/streets': { roles: READ_DASHBOARD },
  'GET /api/v1/map/households/:uprn': { roles: READ_DASHBOARD, everyone: { fields: ['uprn'], why: 'the household chosen on the map, with its bins and their readings (no address); audited' } },
  'GET /api/v1/map/devices/:deviceId/household': { roles: READ_DASHBOARD, everyone: { fields: ['uprn'], why: 'the household of a sensor that raised an alert, as on the map; audited' } },
  'GET /api/v1/map/nearest': { roles: READ_DASHBOARD, everyone: { fields: ['uprn'], why: 'the household at a lift on the map; audited' } },

  'POST /api/v1/registry/import': { roles: [] },
  'GET /api/v1/registry/export': {
    roles: ['contract_manager', 'viewer'], bulk: true,
    household: ['address', 'lat', 'lon', 'assisted', 'rfidTag'], customer: ['crmRef'],
    everyone: { fields: ['uprn'], why: 'the key that joins households, bins, round stops and subscriptions; every export is audited with its row count' },
  },
  'GET /api/v1/rounds': { roles: READ_DASHBOARD },
  'GET /api/v1/rounds/:roundId': { roles: READ_DASHBOARD, household: ['uprn', 'address', 'lat', 'lon', 'assisted'] },
  'GET /api/v1/calendar/bank-holidays': { roles: READ_DASHBOARD },
  'GET /api/v1/calendar/overrides': { roles: READ_DASHBOARD },
  'PUT /api/v1/calendar/overrides/:originalDate': { roles: ['contract_manager'] },
  'DELETE /api/v1/calendar/overrides/:originalDate': { roles: ['contract_manager'] },
  'POST /api/v1/calendar/generate': { roles: [] },

  'GET /api/v1/rewards/leaderboard': { roles: ['viewer', 'contract_manager', 'crm'] },
  'GET /api/v1/rewards/rules': { roles: [] },
  'PUT /api/v1/rewards/rules': { roles: [] },
  'POST /api/v1/rewards/periods/:period/post': { roles: [] },

  'GET /api/v1/events': { roles: ['crm'], household: ['uprn'], customer: ['crmRef'] },
  'GET /api/v1/events/webhooks': { roles: [] },
  'GET /api/v1/events/webhooks/dead-letters': { roles: [], household: ['uprn'], customer: ['crmRef'] },
  'POST /api/v1/events/webhooks/dead-letters/requeue': { roles: [] },

  'GET /api/v1/contracts': { roles: READ_DASHBOARD },
  'GET /api/v1/contracts/:contractId/performance': { roles: ['contract_manager', 'viewer'] },
  'GET /api/v1/contracts/:contractId/league': { roles: ['contract_manager', 'viewer'] },
  'GET /api/v1/contracts/:contractId/trends': { roles: ['contract_manager', 'viewer'] },
  'GET /api/v1/contracts/:contractId/why-missed': { roles: ['contract_manager', 'viewer'], household: ['uprn', 'address', 'assisted'], householdRows: { under: 'households' } },
  'GET /api/v1/contracts/:contractId/collections': { roles: ['contract_manager', 'viewer'], household: ['uprn', 'address'] },
  'GET /api/v1/reports': { roles: ['crm', 'contract_manager', 'viewer'], household: ['uprn', 'address'] },

  'GET /api/v1/proactive/misses': { roles: READ_DASHBOARD, household: ['uprn', 'address'] },
  'GET /api/v1/proactive/misses/:collectionId': { roles: READ_DASHBOARD, household: ['uprn', 'address'] },
  'POST /api/v1/proactive/misses/:collectionId/confirm': { roles: ['contract_manager'], household: ['uprn', 'address'] },
  'POST /api/v1/proactive/misses/:collectionId/withdraw': { roles: ['contract_manager'], household: ['uprn', 'address'] },
  'GET /api/v1/returns': { roles: READ_DASHBOARD, household: ['uprn', 'address', 'lat', 'lon'], householdRows: {} },
  'GET /api/v1/proactive/patterns': { roles: ['contract_manager', 'viewer'], household: ['uprn', 'address'], householdRows: { where: { scope: 'property' } } },
  'GET /api/v1/forecasts/bins': { roles: ['contract_manager', 'viewer'], household: ['uprn', 'address'] },
  'GET /api/v1/forecasts/bins/:binId': { roles: ['contract_manager', 'viewer'], household: ['uprn', 'address'] },
  'GET /api/v1/live': { roles: READ_DASHBOARD, household: ['tag'] },
  'POST /api/v1/analysis/runs': { roles: [] },
  'GET /api/v1/analysis/runs/:id': { roles: [] },

  'GET /open311/v2/discovery.:format': { roles: 'public' },
  'GET /open311/v2/services.:format': { roles: 'public' },
  'GET /open311/v2/services/:service_code.:format': { roles: 'public' },
  'POST /open311/v2/requests.:format': { roles: ['crm'], customer: ['account_id'] },
  'GET /open311/v2/requests.:format': { roles: READ_DASHBOARD, keyless: true, household: ['address', 'address_id', 'lat', 'long'], customer: ['description', 'media_url'] },
  'GET /open311/v2/requests/:service_request_id.:format': { roles: READ_DASHBOARD, keyless: true, household: ['address', 'address_id', 'lat', 'long'], customer: ['description', 'media_url'] },
  'GET /open311/v2/servicerequestupdates.:format': { roles: READ_DASHBOARD },
  'POST /open311/v2/servicerequestupdates.:format': { roles: ['crm'] },

  'GET /ngsi-ld/v1/entities': { roles: ['viewer', 'contract_manager', 'crm'] },
  'GET /ngsi-ld/v1/entities/:entityId': { roles: ['viewer', 'contract_manager', 'crm'] },
}

export const routeKey = (method: string, url: string): string => `${method.toUpperCase()} ${url}`

export const accessOf = (method: string, url: string | undefined): RouteAccess | undefined => url === undefined ? undefined : ACCESS_MODEL[routeKey(method, url)]

/** May this role call the route at all? */
export function mayCall(access: RouteAccess, role: Role | null): boolean {
  if (access.roles === 'public') return true
  if (access.roles === 'webhook') return false
  return role === 'admin' || (role !== null && access.roles.includes(role))
}

/** The personal fields a keyless caller's answer would carry: none; all of them are removed. */
export function keylessHiddenFields(access: RouteAccess): string[] {
  return [...(access.household ?? []), ...(access.customer ?? []), ...(access.everyone?.fields ?? [])]
}

/** May this role see the route's fields of this class? */
export const seesClass = (access: RouteAccess, role: Role, cls: PersonalClass): boolean => role === 'admin' || (!access.bulk && CLASS_ROLES[cls].includes(role))

/** The personal fields of a route's answer that this role gets, and those removed for it. */
export function personalFieldsFor(access: RouteAccess, role: Role): { shown: string[]; hidden: string[] } {
  const shown = new Set(access.everyone?.fields ?? [])
  const hidden = new Set<string>()
  for (const cls of ['household', 'customer'] as const) {
    const may = seesClass(access, role, cls)
    for (const f of access[cls] ?? []) (may ? shown : hidden).add(f)
  }
  for (const f of shown) hidden.delete(f)
  return { shown: [...shown], hidden: [...hidden] }
}

/** Does this role's answer from the route carry personal data (and so get audited)? */
export const carriesPersonalData = (access: RouteAccess, role: Role): boolean =>
  access.aboutHousehold === true || personalFieldsFor(access, role).shown.length > 0

/** Remove the named properties wherever they occur in a JSON value (in place). */
export function stripFields(value: unknown, fields: ReadonlySet<string>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 16 || fields.size === 0) return
  if (Array.isArray(value)) {
    for (const v of value) stripFields(v, fields, depth + 1)
    return
  }
  const obj = value as Record<string, unknown>
  for (const k of Object.keys(obj)) {
    if (fields.has(k)) delete obj[k]
    else stripFields(obj[k], fields, depth + 1)
  }
}

/** Leave out the rows about one household (RouteAccess.householdRows) from a JSON value, in place. */
export function dropHouseholdRows(value: unknown, spec: NonNullable<RouteAccess['householdRows']>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 16) return
  const about = (row: unknown) => row !== null && typeof row === 'object' && Object.entries(spec.where ?? {}).every(([k, v]) => (row as Record<string, unknown>)[k] === v)
  const keep = (rows: unknown[]) => {
    let n = 0
    for (const row of rows) if (!about(row)) rows[n++] = row
    rows.length = n
  }
  if (spec.under === undefined) {
    if (Array.isArray(value)) keep(value)
    return
  }
  if (Array.isArray(value)) {
    for (const v of value) dropHouseholdRows(v, spec, depth + 1)
    return
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === spec.under && Array.isArray(v)) keep(v)
    else dropHouseholdRows(v, spec, depth + 1)
  }
}

const TABLE_ROLES: readonly Role[] = ['viewer', 'contract_manager', 'crm', 'provisioning', 'admin']

/** One cell of the documented table: refused, allowed without personal data, or the personal fields given (and audited). */
function cell(access: RouteAccess, role: Role): string {
  if (access.roles === 'public') return 'anyone'
  if (access.roles === 'webhook') return 'own secret'
  if (!mayCall(access, role)) return '–'
  const { shown } = personalFieldsFor(access, role)
  const parts = [...(access.aboutHousehold ? ['the household'] : []), ...shown.map((f) => `\`${f}\``)]
  if (parts.length > 0) return `${parts.join(', ')} (audited)`
  return access.householdRows && !seesClass(access, role, 'household') ? 'yes, without rows about one household' : 'yes'
}

/** The model as the Markdown table in docs/data-protection.md and SECURITY.md (a test keeps them equal). */
export function accessTable(): string {
  const rows = Object.entries(ACCESS_MODEL).map(([route, access]) => `| \`${route}\`${access.keyless ? ' (also without a key: no personal fields)' : ''} | ${TABLE_ROLES.map((r) => cell(access, r)).join(' | ')} |`)
  return [`| Route | ${TABLE_ROLES.join(' | ')} |`, `|---|${TABLE_ROLES.map(() => '---').join('|')}|`, ...rows].join('\n')
}
