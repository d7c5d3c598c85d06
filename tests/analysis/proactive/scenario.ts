// The simulated city with known miss behaviour that the proactive test and benchmark share. The
// default crews (a few random misses, street skips, breakdowns, unfinished rounds) and, by weekday,
// crews that are known to fail: on Mondays every round's crew passes 3 % of the bins put out; on
// Wednesdays crews leave out 6 % of their streets; on Thursdays vehicles break down on a quarter of
// their rounds and nobody finishes them; on Fridays half the rounds run out of time (the rest of the
// round is lifted the next working day). Bin sensors read hourly; positions every minute.
import type { City } from '../../../simulators/city/city.ts'
import type { BehaviourOptions, CrewBehaviour } from '../../../simulators/model/behaviour.ts'

const BY_WEEKDAY: Record<string, Partial<CrewBehaviour>> = {
  mon: { missRate: 0.03 },
  wed: { streetSkipRate: 0.06 },
  thu: { breakdownRate: 0.25, breakdownRecovery: 'missed' },
  fri: { unfinishedRate: 0.5 },
}

export function knownMissBehaviour(city: City): BehaviourOptions {
  const crewByRound: Record<string, Partial<CrewBehaviour>> = {}
  for (const r of city.rounds) {
    const day = /-(mon|tue|wed|thu|fri|sat|sun)-/.exec(r.roundId)?.[1]
    const crew = day ? BY_WEEKDAY[day] : undefined
    if (crew) crewByRound[r.roundId] = crew
  }
  return { sensors: { readingIntervalS: 3600 }, vehicles: { positionIntervalS: 60 }, crewByRound }
}
