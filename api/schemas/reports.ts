// Missed-bin reports as the dashboard lists them: Open311's own document has no validity or
// invalid reason, and addresses them by service code; this one carries the assessment. Declared
// once: fastify validates and serialises with it, and the dashboard imports the types.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { WASTE_STREAMS } from '../../core/contract/domain.ts'
import { REPORT_STATUSES, REPORT_VALIDITIES } from '../../storage/reports.ts'
import { DateTime, Uprn } from './common.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Day = Type.String({ format: 'date', description: 'YYYY-MM-DD' })
// A string enum with its literal type (Type.Union over a mapped array would type as string).
const literals = <T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values] })

export const ReportsQuery = Type.Object({
  status: Type.Optional(literals(REPORT_STATUSES)),
  validity: Type.Optional(literals(REPORT_VALIDITIES)),
  stream: Type.Optional(literals(WASTE_STREAMS)),
  uprn: Type.Optional(Uprn),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Reported at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Reported at or before' })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200, description: 'Reports in the page (the newest first)' }),
  after: Type.Optional(Type.Integer({ minimum: 1, description: 'Only the reports listed after this one (older, or as old with a lower report id): the last reportId of the previous page, as in the Link header\'s rel="next"' })),
})
export type ReportsQuery = Static<typeof ReportsQuery>

export const ReportRow = Type.Object({
  reportId: Type.Integer(),
  serviceCode: Type.String(),
  stream: Type.String(),
  uprn: Type.Optional(Uprn),
  address: Type.Optional(Type.String({ description: 'UPRN and address: roles crm, contract_manager and admin only' })),
  postcode: Nullable(Type.String()),
  collectionDate: Nullable(Day),
  requestedAt: DateTime,
  status: literals(REPORT_STATUSES),
  statusNotes: Nullable(Type.String()),
  validity: literals(REPORT_VALIDITIES),
  invalidReason: Nullable(Type.String()),
  expectedDatetime: Nullable(Type.String({ format: 'date-time', description: 'When the return visit is due (valid misses)' })),
  closedAt: Nullable(DateTime),
  agencyResponsible: Nullable(Type.String()),
}, { $id: 'ReportRow', description: 'A missed-bin report without the reporter\'s personal data (kept apart, never returned)' })
export type ReportRow = Static<typeof ReportRow>
