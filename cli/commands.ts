// Commands added by later capabilities (demo, registry import/export, simulators), so that the
// main CLI stays a list of services. Each returns an exit code, or -1 to keep running.
import type { Config } from '../core/config.ts'
import type { Logger } from '../core/log.ts'
import { registryCommands } from './registry-command.ts'
import { demoCommand } from './demo-command.ts'
import { privacyCommand } from './privacy-command.ts'
import { analyseCommand } from './analyse-command.ts'

export interface ExtraCommand {
  name: string
  usage: string
  summary: string
  run(args: string[], env: { config: Config; logger: Logger }): Promise<number>
}

export const extraCommands: ExtraCommand[] = []
extraCommands.push(...registryCommands)
extraCommands.push(demoCommand)
extraCommands.push(privacyCommand)
extraCommands.push(analyseCommand)
