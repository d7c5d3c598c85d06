// Requests of the data-protection routes (api/routes/privacy.ts), declared once; the documents they
// answer with are in core/contract/privacy.ts.
import { Type, type Static } from '@sinclair/typebox'
import { RawReadings } from '../../core/contract/privacy.ts'
import { DateTime, Paging, Uprn } from './common.ts'

export const SubjectAccessQuery = Type.Object({
  rawReadings: Type.Optional(RawReadings),
  rawDays: Type.Integer({ minimum: 1, maximum: 3660, default: 31, description: 'With rawReadings=recent: the raw readings of this many days' }),
})

export const ErasureBody = Type.Object({
  requestRef: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$', description: "The council's case reference of the request, e.g. DSR-2026-0042 (no personal data)" })),
  includeAssistedCollection: Type.Optional(Type.Boolean({ description: 'Also end the assisted-collection flag, which implies a resident\'s health or mobility: the crews then stop the assisted collection' })),
  contact: Type.Optional(Type.Object({
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    phone: Type.Optional(Type.String({ pattern: '^[+0-9 ()-]{6,24}$' })),
  }, { additionalProperties: false, description: "The requester's own email or phone: their details on reports about other properties are erased too. Used for the match only; never stored or logged." })),
}, { additionalProperties: false })
export type ErasureBody = Static<typeof ErasureBody>

export const ErasuresQuery = Type.Composite([Paging, Type.Object({ uprn: Type.Optional(Uprn) })])

export const RetentionRun = Type.Object({
  period: Type.String(), status: Type.String(), startedAt: DateTime, finishedAt: Type.Union([DateTime, Type.Null()]),
  detail: Type.Unknown({ description: 'The periods applied, their cutoffs, and what each removed' }),
}, { $id: 'RetentionRun' })
