#!/usr/bin/env node
// Run by `npm start` and `npm run demo` before the dashboard build (prestart/predemo): are the ports
// free? For start, a taken port stops here, in a second or two, with the setting that moves Kerbside
// off it, instead of after the build and the migrations. The demo picks free ports itself, so for it
// this only says so.
import { existsSync } from 'node:fs'
import { register } from 'tsx/esm/api'

if (existsSync('.env')) process.loadEnvFile('.env')
register()
const { loadConfig, ConfigError } = await import('../core/config.ts')
const { takenPorts } = await import('./port-check.ts')
const mode = process.argv[2] === 'demo' ? 'demo' : 'start'
try {
  const taken = await takenPorts(loadConfig())
  for (const t of taken) {
    if (mode === 'start') console.error(`kerbside: ${t.message}`)
    else console.log(`Port ${t.use.port} (${t.use.setting}) is in use by another program; the demo will take a free port instead and print it (set ${t.use.setting} to choose one).`)
  }
  process.exitCode = mode === 'start' && taken.length > 0 ? 1 : 0
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`kerbside: ${err.message}`)
    process.exitCode = 1
  } else throw err
}
