// Which data folder a CLI command works on. KERBSIDE_DATA_DIR when set; otherwise a demo that is
// running (its marker names its process and API) wins over the default folder, since that is what a
// newcomer trying `kerbside users add` beside `npm run demo` means; and with no database in the
// default folder but a demo's beside it, the demo's. Each choice is said on stderr.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from '../core/config.ts'
import { processAlive, readMarker } from './demo-folder.ts'

export function locateDataDir(config: Config, env: Record<string, string | undefined> = process.env): { config: Config; note: string | null } {
  if (env.KERBSIDE_DATA_DIR) return { config, note: null }
  const demoDir = join(config.KERBSIDE_DATA_DIR, 'demo')
  const marker = readMarker(demoDir)
  if (!marker) return { config, note: null }
  if (marker.running && processAlive(marker.running.pid)) {
    const port = Number(new URL(marker.running.httpUrl).port)
    return {
      config: { ...config, KERBSIDE_DATA_DIR: demoDir, ...(env.HTTP_PORT ? {} : { HTTP_PORT: port }) },
      note: `(the demo is running: using its data in ${demoDir}; set KERBSIDE_DATA_DIR to choose another folder)`,
    }
  }
  if (!existsSync(join(config.KERBSIDE_DATA_DIR, 'pgdata'))) {
    return { config: { ...config, KERBSIDE_DATA_DIR: demoDir }, note: `(no database in ${config.KERBSIDE_DATA_DIR}: using the demo's, ${demoDir}; set KERBSIDE_DATA_DIR to choose)` }
  }
  return { config, note: null }
}
