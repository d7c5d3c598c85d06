// The operator's base map: a raster tile server (OpenStreetMap, the council's own, a commercial one)
// named by a URL template and its attribution. Unset, the dashboard draws the city's own streets
// from the registry with their names (no request leaves Kerbside). The content security policy lets
// the browser load images from the tile server's origin only.

export interface BaseMap {
  /** Leaflet URL template: {z}/{x}/{y}, optionally {s} (subdomains a, b, c) and {r} (retina). */
  url: string
  /** Shown on the map, as the tile provider's licence requires (OpenStreetMap: "© OpenStreetMap contributors"). */
  attribution: string
  maxZoom: number
}

export class BaseMapConfigError extends Error {
  override name = 'KERBSIDE_ERR_BASE_MAP_CONFIG'
}

/** The base map from its settings, or null when no URL is set; a clear error for a template that cannot work. */
export function parseBaseMap(input: { url?: string; attribution?: string; maxZoom?: number }): BaseMap | null {
  const url = input.url?.trim()
  if (!url) return null
  for (const part of ['{z}', '{x}', '{y}']) {
    if (!url.includes(part)) throw new BaseMapConfigError(`MAP_TILE_URL must contain ${part} (a tile URL template such as https://tile.openstreetmap.org/{z}/{x}/{y}.png); it is ${url}`)
  }
  let parsed: URL
  try {
    parsed = new URL(url.replaceAll('{s}', 'a'))
  } catch {
    throw new BaseMapConfigError(`MAP_TILE_URL is not a URL: ${url}`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new BaseMapConfigError(`MAP_TILE_URL must be http(s); it is ${url}`)
  const attribution = input.attribution?.trim()
  if (!attribution) throw new BaseMapConfigError('MAP_TILE_ATTRIBUTION must be set with MAP_TILE_URL: tile servers require their attribution on the map (for OpenStreetMap: © OpenStreetMap contributors)')
  return { url, attribution, maxZoom: input.maxZoom ?? 19 }
}

/** The origin to allow in img-src: {s} becomes a wildcard label (https://*.tile.example.org). */
export function baseMapImageSource(map: BaseMap): string {
  const u = new URL(map.url.replaceAll('{s}', 'kerbside-subdomain'))
  return `${u.protocol}//${u.host.replace('kerbside-subdomain', '*')}`
}
