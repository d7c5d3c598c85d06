// vt-pbf 3.1.3 ships no types: the one function Kerbside calls.
declare module 'vt-pbf' {
  const vtpbf: {
    /** Layers as geojson-vt (or supercluster getTile) tiles, by name, to one Mapbox vector tile. */
    fromGeojsonVt(layers: Record<string, { features: unknown[] }>, options?: { version?: number; extent?: number }): Uint8Array
  }
  export default vtpbf
}
