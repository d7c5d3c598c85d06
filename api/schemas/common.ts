// Request and response shapes shared by several routes. Declared once: fastify validates with them,
// the OpenAPI document is generated from them, and the dashboard imports their static types.
import { Type, type Static, type TSchema } from '@sinclair/typebox'

export const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String({ description: 'Stable error name, e.g. KERBSIDE_ERR_NOT_FOUND or FST_ERR_VALIDATION' }),
  error: Type.String(),
  message: Type.String({ description: 'What went wrong and what to do about it' }),
}, { $id: 'Error' })
export type ErrorBody = Static<typeof ErrorBody>

export const Errors = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  404: Type.Ref('Error'),
  429: Type.Ref('Error'),
}

export const DateTime = Type.String({ format: 'date-time' })
export const Uprn = Type.Integer({ minimum: 1, maximum: 999_999_999_999, description: 'Unique Property Reference Number' })
export const DeviceId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'Device id: 1–64 of A–Z a–z 0–9 _ . -, starting with a letter or digit' })

export const Paging = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  offset: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
})

export const TimeRange = Type.Object({
  from: DateTime,
  to: DateTime,
})

/**
 * A reference to a named schema ({ $ref: its $id }) that keeps the schema's static type: TypeBox
 * 0.34's Type.Ref('Name') types as unknown, which would leave every nested field of a response
 * untyped for the routes and for the dashboard that imports these types.
 */
export const Ref = <T extends TSchema>(schema: T) => Type.Unsafe<Static<T>>(Type.Ref(schema.$id!))
