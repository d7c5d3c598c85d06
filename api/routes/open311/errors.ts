// Errors in GeoReport v2's own format, in the format the client asked for: JSON
// [{ "code": 400, "description": "…" }] or XML <errors><error><code/><description/></error></errors>.
// HTTP statuses as the spec's "Errors" section says: 404 for resources that don't exist, 403 for a
// wrong or missing api_key, 400 for any other request that cannot be fulfilled. Beyond the spec:
// 429 when the rate limit is reached, and 500 (details only in the log) when Kerbside itself fails.
// Scoped to the Open311 plugin: the rest of the API keeps its own error body.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AuthError } from '../../plugins/auth.ts'
import { formatOfUrl, isFormat, sendDocument, type Format } from './formats/respond.ts'

export type Open311Status = 400 | 403 | 404 | 429 | 500

export class Open311Error extends Error {
  override name = 'KERBSIDE_ERR_OPEN311'
  constructor(public statusCode: Open311Status, public description: string) {
    super(description)
  }
}

export const badRequest = (description: string) => new Open311Error(400, description)
export const notFound = (description: string) => new Open311Error(404, description)
export const forbidden = (description: string) => new Open311Error(403, description)

/** The format of the resource asked for, also when the request failed before its params were read. */
export function requestFormat(req: FastifyRequest): Format {
  const fromParams = (req.params as { format?: unknown } | undefined)?.format
  return isFormat(fromParams) ? fromParams : formatOfUrl(req.url)
}

export function sendErrors(reply: FastifyReply, format: Format, status: Open311Status, descriptions: string[]): FastifyReply {
  return sendDocument(reply, format, 'errors', descriptions.map((description) => ({ code: status, description })), { status })
}

function describeValidation(err: FastifyError): { status: Open311Status; description: string } {
  const first = err.validation?.[0]
  if (err.validationContext === 'params' && first?.instancePath === '/format') {
    return { status: 400, description: 'Unsupported format: ask for .json or .xml.' }
  }
  const field = first?.instancePath ? first.instancePath.replace(/^\//, '').replaceAll('/', '.') : undefined
  return { status: 400, description: field ? `${field}: ${first?.message ?? 'is invalid'}.` : err.message }
}

export function open311ErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const format = requestFormat(req)
  if (err instanceof Open311Error) {
    void sendErrors(reply, format, err.statusCode, [err.description])
  } else if (err instanceof AuthError) {
    void sendErrors(reply, format, 403, [err.message])
  } else if (err.validation) {
    const { status, description } = describeValidation(err)
    void sendErrors(reply, format, status, [description])
  } else if (err.statusCode === 429) {
    void sendErrors(reply, format, 429, [err.message])
  } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    // Bad bodies, unsupported media types, payloads too large: "any other error" is a 400.
    void sendErrors(reply, format, 400, [err.message])
  } else {
    req.log.error({ err }, 'Open311 request failed')
    void sendErrors(reply, format, 500, ['Something went wrong on our side. It has been logged; try again, and tell the council if it persists.'])
  }
}

export function open311NotFound(req: FastifyRequest, reply: FastifyReply): void {
  const path = (req.url.split('?')[0] ?? '').replace(/^\/open311\/v2/, '')
  void sendErrors(reply, formatOfUrl(req.url), 404, [
    `No Open311 resource ${req.method} ${path}. This endpoint offers GET discovery.{json|xml}, GET services.{json|xml}, GET services/{service_code}.{json|xml}, POST and GET requests.{json|xml}, GET requests/{service_request_id}.{json|xml} and GET servicerequestupdates.{json|xml}.`,
  ])
}
