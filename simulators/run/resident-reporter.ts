// Residents' missed-bin reports, filed as the council's CRM files them: Open311 GeoReport v2
// POST /open311/v2/requests.json, form-encoded, with a key of role crm. Each report carries an
// Idempotency-Key, so a retry after a timeout or a 429 files it once. The answer (service request id,
// status) is written into the report's ground truth.
import type { ReportTruth } from '../truth/records.ts'

export interface ReporterOptions {
  /** Base URL of the Kerbside API, e.g. http://127.0.0.1:8080. */
  url: string
  /** An API key with role crm. */
  apiKey: string
  /** Reports in flight at once; default 4. */
  concurrency?: number
  /** Awaited before each report is sent (a test may wait for ingest to catch up first). */
  gate?: (report: ReportTruth) => Promise<void>
  /** Prefix of the Idempotency-Key; default "kerbside-sim". */
  idempotencyPrefix?: string
  maxAttempts?: number
}

interface Job { report: ReportTruth; form: Record<string, string> }

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export class ResidentReporter {
  private readonly queue: Job[] = []
  private running = 0
  private idle: (() => void)[] = []

  constructor(private readonly opts: ReporterOptions) {}

  submit(report: ReportTruth, form: Record<string, string>): void {
    this.queue.push({ report, form })
    this.pump()
  }

  /** Resolve once every submitted report has been answered (or given up on). */
  flush(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idle.push(resolve))
  }

  private pump(): void {
    while (this.running < (this.opts.concurrency ?? 4) && this.queue.length > 0) {
      const job = this.queue.shift()!
      this.running++
      void this.send(job).finally(() => {
        this.running--
        this.pump()
        if (this.running === 0 && this.queue.length === 0) for (const resolve of this.idle.splice(0)) resolve()
      })
    }
  }

  private async send({ report, form }: Job): Promise<void> {
    try {
      await this.opts.gate?.(report)
      const body = new URLSearchParams({ api_key: this.opts.apiKey, ...form })
      const maxAttempts = this.opts.maxAttempts ?? 8
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(`${this.opts.url}/open311/v2/requests.json`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': `${this.opts.idempotencyPrefix ?? 'kerbside-sim'}-${report.id}` },
          body,
        })
        report.httpStatus = res.status
        if ((res.status === 429 || res.status >= 500) && attempt < maxAttempts) {
          await res.arrayBuffer()
          const retryAfter = Number(res.headers.get('retry-after'))
          await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 200 * 2 ** attempt)
          continue
        }
        const text = await res.text()
        if (!res.ok) {
          report.error = `HTTP ${res.status}: ${text.slice(0, 300)}`
          return
        }
        const answer = JSON.parse(text) as { service_request_id?: string }[]
        report.serviceRequestId = answer[0]?.service_request_id ?? null
        report.postedAt = new Date().toISOString()
        if (report.serviceRequestId === null) report.error = `no service_request_id in ${text.slice(0, 200)}`
        return
      }
    } catch (err) {
      report.error = (err as Error).message
    }
  }
}
