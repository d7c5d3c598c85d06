// The daily retention job: applies the configured retention periods (storage/privacy/retention.ts)
// and records what it removed in job_runs. Keyed by the local day, like the other daily jobs; a rerun
// the same day removes nothing more.
import { loadConfig, type Config } from '../../core/config.ts'
import { RETENTION_JOB, applyRetention, type RetentionDays } from '../../storage/privacy/retention.ts'
import { localDate } from '../calendar/dates.ts'
import type { JobDefinition } from '../scheduler.ts'

export const retentionDays = (c: Pick<Config, 'REPORT_CONTACT_RETENTION_DAYS' | 'AUDIT_LOG_RETENTION_DAYS' | 'READINGS_RETENTION_DAYS' | 'POSITION_RETENTION_DAYS' | 'QUARANTINE_RETENTION_DAYS'>): RetentionDays => ({
  reportContacts: c.REPORT_CONTACT_RETENTION_DAYS,
  auditLog: c.AUDIT_LOG_RETENTION_DAYS,
  readings: c.READINGS_RETENTION_DAYS,
  positions: c.POSITION_RETENTION_DAYS,
  quarantine: c.QUARANTINE_RETENTION_DAYS,
})

export const retentionJob: JobDefinition = {
  name: RETENTION_JOB,
  // 03:10 daily: after the calendar (02:20), before the KPI roll-up (04:30) recomputes the days whose
  // reports lost their free text.
  schedule: '10 3 * * *',
  period: (now) => localDate(now),
  async run({ db, logger, now, config }) {
    // Without the service's configuration (a scheduler started by a test or a tool), the defaults apply.
    const report = await applyRetention(db, retentionDays(config ?? loadConfig({})), now)
    logger.info({ retention: report }, 'retention applied')
    return { ...report }
  },
}
