#!/usr/bin/env node
// The `kerbside` command. TypeScript runs through tsx's loader, so there is no build step to forget.
import { existsSync } from 'node:fs'
import { register } from 'tsx/esm/api'

// Settings from ./.env when present; the environment wins over the file.
if (existsSync('.env')) process.loadEnvFile('.env')
register()
await import('./kerbside.ts')
