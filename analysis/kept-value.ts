// A value computed from the database, kept per database object and key while a token read from the
// database (row versions, marks) is unchanged: the mechanism of the why-missed ranking, the ward
// leaderboard and the KPI day sums. At most `max` keys per database, the least recently used dropped.
const kept = new WeakMap<object, Map<string, { token: string; value: unknown }>>()

export async function keptValue<T>(db: object, key: string, token: string, max: number, compute: () => Promise<T>): Promise<T> {
  let entries = kept.get(db)
  const hit = entries?.get(key)
  if (hit && hit.token === token) {
    entries!.delete(key)
    entries!.set(key, hit)
    return hit.value as T
  }
  const value = await compute()
  if (!entries) kept.set(db, (entries = new Map()))
  entries.delete(key)
  entries.set(key, { token, value })
  if (entries.size > max) entries.delete(entries.keys().next().value!)
  return value
}
