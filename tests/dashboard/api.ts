// Start tests/dashboard/api-server.ts in a child Node process and read where it listens; stop it
// after the tests. Node's child_process is loaded with Node's require: this project resolves
// packages for the browser.
import { createRequire } from 'node:module'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'

export interface TestApi {
  url: string
  admin: string
  keys: { contract_manager: string; viewer: string; crm: string; provisioning: string }
  /** A household of the scenario with misses, reports and both rounds. */
  household: number
  stop(): Promise<void>
}

const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process')
const ROOT = join(import.meta.dirname, '..', '..')

export async function startTestApi(): Promise<TestApi> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'tests', 'dashboard', 'api-server.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString() })
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(out.slice(0, nl))
    })
    child.once('exit', (code) => reject(new Error(`the test API exited (${code}) before listening:\n${stderr}`)))
  })
  const info = JSON.parse(line) as Omit<TestApi, 'stop'>
  return {
    ...info,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    }),
  }
}

/** Point the test DOM at the API: the dashboard calls it with relative URLs, as from the page it serves. */
export function useOrigin(url: string): void {
  const happyDOM = (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM
  happyDOM.setURL(`${url}/`)
}
