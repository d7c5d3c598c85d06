// The scheduled reward posting. Daily, keyed by the local day: each run posts last month again, so
// lifts that reach Kerbside late (a vehicle unit that was offline, a reprocessed export) still count
// for as long as the following month lasts. A run with nothing new adds nothing.
import { localDate } from '../calendar/dates.ts'
import type { JobDefinition } from '../scheduler.ts'
import { DEFAULT_TIME_ZONE, postRewards } from './ledger.ts'
import { lastClosedMonth } from './periods.ts'

export const rewardsJob: JobDefinition = {
  name: 'rewards',
  // 05:15 daily: after the calendar (02:20), the KPI roll-up (04:30) and the night's outcomes.
  schedule: '15 5 * * *',
  period: (now) => localDate(now),
  async run({ db, now }) {
    const [posting] = await postRewards(db, { from: lastClosedMonth(now, DEFAULT_TIME_ZONE), now, cascade: false })
    return { ...posting }
  },
}
