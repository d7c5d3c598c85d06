// Keys generated at first start and kept in the data dir (mode 0600) when they are not configured:
// the bootstrap admin API key and the secret Kerbside's own services use on its broker.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateSecret } from './secrets.ts'

export interface LocalSecrets {
  adminKey: string
  serviceSecret: string
  /** Which of them were generated now (and so must be shown to the operator once). */
  generated: ('adminKey' | 'serviceSecret')[]
  file: string
}

export function loadLocalSecrets(dataDir: string, configured: { adminKey?: string; serviceSecret?: string }): LocalSecrets {
  const file = join(dataDir, 'secrets.json')
  let stored: { adminKey?: string; serviceSecret?: string } = {}
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as typeof stored
  const generated: LocalSecrets['generated'] = []
  const adminKey = configured.adminKey ?? stored.adminKey ?? (generated.push('adminKey'), generateSecret())
  const serviceSecret = configured.serviceSecret ?? stored.serviceSecret ?? (generated.push('serviceSecret'), generateSecret())
  if (generated.length > 0) {
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(file, JSON.stringify({ ...stored, ...(generated.includes('adminKey') ? { adminKey } : {}), ...(generated.includes('serviceSecret') ? { serviceSecret } : {}) }, null, 2), { mode: 0o600 })
  }
  return { adminKey, serviceSecret, generated, file }
}
