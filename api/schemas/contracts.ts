// The contracts list as the dashboard reads it (the contract picker of its performance pages).
// Declared once: fastify validates and serialises with it, and the dashboard imports the type.
import { Type, type Static, type TSchema } from '@sinclair/typebox'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Day = Type.String({ format: 'date', description: 'YYYY-MM-DD' })

export const ContractSummary = Type.Object({
  contractId: Type.String(),
  name: Type.String(),
  contractorId: Type.String(),
  startsOn: Day,
  endsOn: Nullable(Day),
  targets: Type.Object({ missedPer100k: Type.Number(), onDayPct: Type.Number(), rectifiedPct: Type.Number() }),
}, { $id: 'ContractSummary' })
export type ContractSummary = Static<typeof ContractSummary>
