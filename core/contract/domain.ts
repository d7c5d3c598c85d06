// Domain vocabulary shared by every service and the dashboard.

/** Waste streams a household may have a bin for. */
export const WASTE_STREAMS = ['residual', 'recycling', 'garden', 'food', 'glass'] as const
export type WasteStream = (typeof WASTE_STREAMS)[number]

/** What finally happened to a scheduled collection (DESIGN.md "Domain rules"). */
export const COLLECTION_OUTCOMES = ['pending', 'collected', 'collected_late', 'crew_exception', 'missed', 'rectified', 'rectified_late'] as const
export type CollectionOutcome = (typeof COLLECTION_OUTCOMES)[number]

/**
 * FIWARE WasteContainer `storedWasteKind` for each stream (an enum of single materials). Residual
 * waste and UK mixed dry recycling are mixtures that no single value describes, so they are `other`.
 */
export const FIWARE_WASTE_KIND: Record<WasteStream, 'organic' | 'glass' | 'other'> = {
  residual: 'other',
  recycling: 'other',
  garden: 'organic',
  food: 'organic',
  glass: 'glass',
}

/** UPRN: Unique Property Reference Number, an integer of up to 12 digits with no check digit. */
export const MAX_UPRN = 999_999_999_999
export const isUprn = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n > 0 && n <= MAX_UPRN
