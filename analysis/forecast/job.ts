// The fill-forecast job: hourly at :25 (after the quarter-hour readings roll-up), keyed by the hour.
// Forecasts every sensor bin from its own history and stores the latest (analysis/forecast/forecast.ts).
import type { JobDefinition } from '../scheduler.ts'
import { forecastBins, storeForecasts } from './forecast.ts'

export const fillForecastJob: JobDefinition = {
  name: 'fill-forecasts',
  schedule: '25 * * * *',
  period: (now) => now.toISOString().slice(0, 13),
  async run({ db, now }) {
    const forecasts = await forecastBins(db, now)
    const written = await storeForecasts(db, forecasts, now)
    return { bins: forecasts.length, written, overflow: forecasts.filter((f) => f.overflow).length }
  },
}
