// The two formats of GeoReport v2, chosen by the resource's extension (/services.xml,
// /requests/12.json). XML is the spec's required format; JSON is the same document.
import type { FastifyReply } from 'fastify'
import { toXml } from './xml.ts'

export const FORMATS = ['json', 'xml'] as const
export type Format = (typeof FORMATS)[number]

// Content types as the spec gives them ("Format Support").
export const CONTENT_TYPE: Record<Format, string> = {
  json: 'application/json; charset=utf-8',
  xml: 'text/xml; charset=utf-8',
}

export const isFormat = (s: unknown): s is Format => FORMATS.includes(s as Format)

/** The format a URL asks for; XML when it names none we speak, as XML is the format every client reads. */
export function formatOfUrl(url: string): Format {
  const path = url.split('?')[0] ?? ''
  return path.endsWith('.json') ? 'json' : 'xml'
}

/**
 * Send a GeoReport document: `value` as JSON, or as XML under the element `root`.
 * Responses about service requests may carry a household's address: never cached.
 */
export function sendDocument(reply: FastifyReply, format: Format, root: string, value: unknown, opts: { status?: number; private?: boolean } = {}): FastifyReply {
  void reply.code(opts.status ?? 200).type(CONTENT_TYPE[format])
  if (opts.private) void reply.header('cache-control', 'no-store')
  return reply.send(format === 'json' ? value : toXml(root, value))
}
