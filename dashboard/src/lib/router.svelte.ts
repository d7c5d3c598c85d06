// Hash routes (#/map, #/households/100023336956, #/reports?validity=invalid): the API serves one
// index.html at /, so the route lives in the fragment and a reload or a shared link opens the same
// screen. Which screens a role sees follows the roles the API lets read their data.
import type { Role } from './api-types.ts'

const EVERYONE: readonly Role[] = ['contract_manager', 'crm', 'viewer']

export const ROUTES = [
  { id: 'map', label: 'Map', roles: EVERYONE },
  { id: 'performance', label: 'Performance', roles: ['contract_manager', 'viewer'] },
  { id: 'why-missed', label: 'Why missed', roles: ['contract_manager', 'viewer'] },
  { id: 'households', label: 'Households', roles: ['contract_manager', 'crm'] },
  { id: 'reports', label: 'Reports', roles: EVERYONE },
  { id: 'rewards', label: 'Rewards', roles: EVERYONE },
  // The devices list is operator data: not the contact centre's (api/access-model.ts).
  { id: 'devices', label: 'Devices', roles: ['contract_manager', 'viewer'] },
  // Refused input is operator data (api/access-model.ts): the contract manager's, and provisioning's.
  { id: 'quarantine', label: 'Quarantine', roles: ['contract_manager', 'provisioning'] },
] as const satisfies readonly { id: string; label: string; roles: readonly Role[] }[]

export type RouteId = (typeof ROUTES)[number]['id']

/** The screens a role may use (all of them while the role is not known yet, and for admins). */
export function routesFor(role: string | null | undefined): (typeof ROUTES)[number][] {
  if (!role || role === 'admin') return [...ROUTES]
  return ROUTES.filter((r) => (r.roles as readonly string[]).includes(role))
}

export interface Location {
  id: RouteId
  /** Path segments after the screen's id: #/households/123 → ['123']. */
  params: string[]
  query: Record<string, string>
}

export function parseLocation(hash: string): Location {
  const raw = hash.replace(/^#\/?/, '')
  const [path = '', search = ''] = raw.split('?', 2)
  const [first = '', ...rest] = path.split('/').filter((s) => s !== '').map((s) => safeDecode(s))
  const id = ROUTES.find((r) => r.id === first)?.id ?? 'map'
  const query: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(search)) query[k] = v
  return { id, params: id === first ? rest : [], query }
}

export const parseHash = (hash: string): RouteId => parseLocation(hash).id

export function hrefOf(id: RouteId, params: (string | number)[] = [], query: Record<string, string | null | undefined> = {}): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== '') q.set(k, v)
  const path = [id, ...params.map((p) => encodeURIComponent(String(p)))].join('/')
  const search = q.toString()
  return `#/${path}${search ? `?${search}` : ''}`
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

export class Router {
  current = $state<RouteId>('map')
  params = $state<string[]>([])
  query = $state<Record<string, string>>({})

  constructor(private win: Window | null = typeof window === 'undefined' ? null : window) {
    if (!this.win) return
    this.#set(parseLocation(this.win.location.hash))
    this.win.addEventListener('hashchange', this.onHashChange)
  }

  private onHashChange = () => {
    this.#set(parseLocation(this.win!.location.hash))
  }

  #set(loc: Location): void {
    this.current = loc.id
    this.params = loc.params
    this.query = loc.query
  }

  href(id: RouteId): string {
    return hrefOf(id)
  }

  /** Go to a screen as a link would (history entry, hashchange). */
  go(href: string): void {
    if (!this.win) return
    if (this.win.location.hash === href) this.#set(parseLocation(href))
    else this.win.location.hash = href
  }

  destroy(): void {
    this.win?.removeEventListener('hashchange', this.onHashChange)
  }
}
