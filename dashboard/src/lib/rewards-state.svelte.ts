// The reward scheme's overview: the ward leaderboard for a month (no personal data; small wards are
// left out by the API and only counted).
import { answer, api, signedIn } from './api-client.ts'
import type { RewardLeaderboard } from './api-types.ts'
import { londonDay, monthStart } from './periods.ts'
import { Resource } from './resource.svelte.ts'

/** The last `n` closed months, newest first (YYYY-MM): the leaderboard is posted when a month ends. */
export function closedMonths(today: string, n = 12): string[] {
  return Array.from({ length: n }, (_, i) => monthStart(today, i + 1).slice(0, 7))
}

export class RewardsState {
  board = new Resource<RewardLeaderboard>()
  months: string[]
  period = $state('')

  constructor(today: string = londonDay()) {
    this.months = closedMonths(today)
    this.period = this.months[0]!
  }

  async load(key: string): Promise<void> {
    await this.board.load((signal) => answer<RewardLeaderboard>(api.GET('/api/v1/rewards/leaderboard', { params: { query: { period: this.period } }, ...signedIn(key, signal) })))
  }

  stop(): void {
    this.board.stop()
  }
}
