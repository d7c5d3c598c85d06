// Hash routes (#/map, #/devices, …): the API serves one index.html at /, so the route lives in
// the fragment and a reload or a shared link opens the same screen.

export const ROUTES = [
  { id: 'map', label: 'Map' },
  { id: 'performance', label: 'Performance' },
  { id: 'why-missed', label: 'Why missed' },
  { id: 'households', label: 'Households' },
  { id: 'reports', label: 'Reports' },
  { id: 'rewards', label: 'Rewards' },
  { id: 'devices', label: 'Devices' },
] as const

export type RouteId = (typeof ROUTES)[number]['id']

export function parseHash(hash: string): RouteId {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0]
  return ROUTES.find((r) => r.id === id)?.id ?? 'map'
}

export class Router {
  current = $state<RouteId>('map')

  constructor(private win: Window | null = typeof window === 'undefined' ? null : window) {
    if (!this.win) return
    this.current = parseHash(this.win.location.hash)
    this.win.addEventListener('hashchange', this.onHashChange)
  }

  private onHashChange = () => {
    this.current = parseHash(this.win!.location.hash)
  }

  href(id: RouteId): string {
    return `#/${id}`
  }

  destroy(): void {
    this.win?.removeEventListener('hashchange', this.onHashChange)
  }
}
