// Named HTTP errors, and the handler that turns any thrown error into the API's error body.
// 4xx errors tell the caller what to do; 5xx details stay in the log, never in the response.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'

export class HttpError extends Error {
  constructor(public statusCode: number, public code: string, message: string) {
    super(message)
    this.name = code
  }
}

export const httpError = (statusCode: number, code: string, message: string): HttpError => new HttpError(statusCode, code, message)

export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const statusCode = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
  if (statusCode >= 500) {
    req.log.error({ err }, 'request failed')
    void reply.code(statusCode).send({ statusCode, code: 'KERBSIDE_ERR_INTERNAL', error: STATUS_CODES[statusCode] ?? 'Error', message: 'Something went wrong on our side. It has been logged; try again, and tell the operator if it persists.' })
    return
  }
  const code = err.code ?? (err.validation ? 'FST_ERR_VALIDATION' : 'KERBSIDE_ERR_REQUEST')
  void reply.code(statusCode).send({ statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message: err.message })
}
