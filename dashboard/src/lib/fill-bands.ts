// Fill-level bands and their colours. Colours are dark enough for 3:1 contrast against the map's
// light background (WCAG 1.4.11, graphics), and every band also has a text label in the legend.

export interface FillBand {
  id: 'none' | 'low' | 'mid' | 'high' | 'full'
  label: string
  colour: string
}

export const FILL_BANDS: readonly FillBand[] = [
  { id: 'none', label: 'No reading', colour: '#6b7280' },
  { id: 'low', label: 'Under 50 %', colour: '#2f7d32' },
  { id: 'mid', label: '50–75 %', colour: '#8a6d00' },
  { id: 'high', label: '75–90 %', colour: '#c2410c' },
  { id: 'full', label: '90 % or more', colour: '#b91c1c' },
]

/** Index into FILL_BANDS of a fill percentage; the full band starts at the overflow threshold (the API's rule). */
export { fillBand } from '../../../core/fill-band.ts'
