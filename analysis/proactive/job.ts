// The scheduled proactive-miss job: every quarter of an hour (rounds pass streets all day; a resident
// who finds the bin still full reports from 16:00), keyed by the quarter hour, so a second instance or
// a restart within it does nothing more. Each run looks at the collections due today and the two days
// before (late rounds, late data), raises, confirms, withdraws and resolves (detect.ts).
import type { JobDefinition } from '../scheduler.ts'
import { detectMisses } from './detect.ts'

const quarterHour = (d: Date) => `${d.toISOString().slice(0, 14)}${String(Math.floor(d.getUTCMinutes() / 15) * 15).padStart(2, '0')}`

export const proactiveMissesJob: JobDefinition = {
  name: 'proactive-misses',
  schedule: '*/15 * * * *',
  period: quarterHour,
  async run({ db, now }) {
    const r = await detectMisses(db, { now })
    return { ...r }
  },
}
