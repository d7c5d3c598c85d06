/**
 * "When the round passed" each miss and late collection of contract $1 on the days `days` (an SQL
 * condition on o.due_date): the time of the round's last lift or exception before it in driving
 * order that day, or, for the first stops, the first one after it. Shared by the one-pass query and
 * the roll-up (rollup.ts), so that the two answers agree.
 */
export const passingSql = (days: string) => `passing AS MATERIALIZED (
  SELECT o.collection_id, coalesce(before.lift_ts, after.lift_ts) AS passed_at
    FROM collection_outcomes o
    LEFT JOIN round_households me ON me.round_id = o.round_id AND me.uprn = o.uprn
    -- Walk the round's stops away from this one in driving order, taking the first the round lifted
    -- or refused that day: an index scan that stops at once in the common case.
    LEFT JOIN LATERAL (
      SELECT walk.lift_ts FROM (
        SELECT (SELECT n.lift_ts FROM collection_outcomes n
                 WHERE n.uprn = nh.uprn AND n.stream = o.stream AND n.due_date = o.due_date AND n.round_id = o.round_id
                   AND n.outcome IN ('collected', 'crew_exception') LIMIT 1) AS lift_ts
          FROM round_households nh
         WHERE nh.round_id = o.round_id AND nh.position < me.position
         ORDER BY nh.position DESC
      ) walk WHERE walk.lift_ts IS NOT NULL LIMIT 1
    ) before ON true
    LEFT JOIN LATERAL (
      SELECT walk.lift_ts FROM (
        SELECT (SELECT n.lift_ts FROM collection_outcomes n
                 WHERE n.uprn = nh.uprn AND n.stream = o.stream AND n.due_date = o.due_date AND n.round_id = o.round_id
                   AND n.outcome IN ('collected', 'crew_exception') LIMIT 1) AS lift_ts
          FROM round_households nh
         WHERE nh.round_id = o.round_id AND nh.position > me.position
         ORDER BY nh.position
      ) walk WHERE walk.lift_ts IS NOT NULL LIMIT 1
    ) after ON before.lift_ts IS NULL
   WHERE o.contract_id = $1 AND ${days}
     AND o.outcome IN ('missed', 'rectified', 'rectified_late', 'collected_late')
`
