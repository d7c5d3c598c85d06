// NGSI-LD errors: an RFC 7807 ProblemDetails body ({type, title, detail}) whose type is one of the
// error types of ETSI GS CIM 009 ("Error types"), or about:blank for HTTP conditions the NGSI-LD
// API does not name (authentication, rate limits, content negotiation).
import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'

const ERRORS = 'https://uri.etsi.org/ngsi-ld/errors/'

export const NGSI_ERROR_TYPES = {
  InvalidRequest: 400,
  BadRequestData: 400,
  OperationNotSupported: 422,
  ResourceNotFound: 404,
  InternalError: 500,
  TooComplexQuery: 403,
  TooManyResults: 403,
} as const
export type NgsiErrorType = keyof typeof NGSI_ERROR_TYPES

export class NgsiLdError extends Error {
  readonly statusCode: number
  constructor(readonly errorType: NgsiErrorType, readonly detail: string) {
    super(detail)
    this.name = `NGSI_LD_ERR_${errorType}`
    this.statusCode = NGSI_ERROR_TYPES[errorType]
  }
}

export interface ProblemDetails { type: string; title: string; status: number; detail: string }

/** The ProblemDetails of any error thrown while serving an NGSI-LD request. */
export function toProblem(err: FastifyError | NgsiLdError | Error): ProblemDetails {
  if (err instanceof NgsiLdError) return { type: `${ERRORS}${err.errorType}`, title: err.errorType, status: err.statusCode, detail: err.detail }
  const status = (err as FastifyError).statusCode ?? 500
  if (status >= 500) {
    return { type: `${ERRORS}InternalError`, title: 'InternalError', status, detail: 'Something went wrong on our side. It has been logged; try again, and tell the operator if it persists.' }
  }
  // Fastify's own validation of the query string: the request is well formed, its data is not.
  if ((err as FastifyError).validation) return { type: `${ERRORS}BadRequestData`, title: 'BadRequestData', status: 400, detail: err.message }
  if (status === 404) return { type: `${ERRORS}ResourceNotFound`, title: 'ResourceNotFound', status, detail: err.message }
  return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail: err.message }
}

/** Error handler of the NGSI-LD routes: ProblemDetails as application/json; 5xx details only in the log. */
export function ngsiErrorHandler(err: FastifyError | NgsiLdError | Error, req: FastifyRequest, reply: FastifyReply): void {
  const problem = toProblem(err)
  if (problem.status >= 500) req.log.error({ err }, 'NGSI-LD request failed')
  void reply.code(problem.status).type('application/json').send(problem)
}
