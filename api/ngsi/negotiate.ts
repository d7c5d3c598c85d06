// Content negotiation of NGSI-LD responses (ETSI GS CIM 009, HTTP binding): application/json (the
// default, @context in a Link header) or application/ld+json (@context in the body). A client that
// accepts neither gets 406.
import type { MediaType } from './representation.ts'

const OFFERED: MediaType[] = ['application/json', 'application/ld+json']

/** The media type to answer with, or null when the Accept header admits none of ours. */
export function negotiate(accept: string | undefined): MediaType | null {
  if (!accept || accept.trim() === '') return 'application/json'
  let best: { media: MediaType; q: number; specificity: number } | null = null
  for (const range of accept.split(',')) {
    const [name, ...params] = range.trim().toLowerCase().split(';').map((s) => s.trim())
    const qParam = params.find((p) => p.startsWith('q='))
    const q = qParam ? Number(qParam.slice(2)) : 1
    if (!name || !(q > 0)) continue
    for (const media of OFFERED) {
      const specificity = name === media ? 2 : name === 'application/*' || name === '*/*' ? 1 : 0
      if (specificity === 0) continue
      // Higher q wins; on a tie the more specific range wins; then application/json (the default).
      if (!best || q > best.q || (q === best.q && specificity > best.specificity)) best = { media, q, specificity }
    }
  }
  return best?.media ?? null
}
