// Child process of embedded-sigkill.test.ts: opens the embedded database on a folder (as
// `kerbside start` does, migrations check included), then commits readings in a loop and prints
// each id only after its transaction resolved. The parent kills it with SIGKILL mid-stream and
// checks that every printed id is stored. stdout is a pipe, and Node writes to pipes synchronously
// on Linux, so a printed line reached the parent before the next commit starts.
import { silentLogger } from '../../core/log.ts'
import { openDatabase } from '../../storage/open-database.ts'

const [dataDir, firstArg, rowsArg] = process.argv.slice(2)
if (!dataDir || !firstArg) throw new Error('usage: embedded-sigkill-child.ts <dataDir> <firstId> [rowsPerCommit]')
const rowsPerCommit = Number(rowsArg ?? 5)

const started = performance.now()
const db = await openDatabase({ dataDir, logger: silentLogger })
process.stdout.write(`opened ${Math.round(performance.now() - started)}\n`)

const base = Date.parse('2026-11-20T00:00:00Z')
for (let id = Number(firstArg); ; id += rowsPerCommit) {
  const ids = Array.from({ length: rowsPerCommit }, (_, k) => id + k)
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO bin_readings (device_id, ts, seq, fill_pct)
       SELECT 'sigkill', to_timestamp($1::float8 / 1000) + make_interval(secs => s), s, s % 100
       FROM unnest($2::bigint[]) AS s`,
      [base, ids],
    )
  })
  process.stdout.write(`committed ${ids.join(' ')}\n`)
}
