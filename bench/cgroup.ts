// A CPU quota for one process, as a container's CPU limit gives it in production: a Linux cgroup
// (v1 cpu controller) with a CFS quota. Creating one needs root; without it the callers skip the
// limited runs and say so.
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const CGROUP_CPU = '/sys/fs/cgroup/cpu'

/** Whether this process may create cgroups with a CPU quota. */
export function cgroupsUsable(tag: string): boolean {
  const probe = join(CGROUP_CPU, `kerbside-bench-probe-${tag}`)
  try { mkdirSync(probe); rmdirSync(probe); return true } catch { return false }
}

/** Put a process (all its threads) in a fresh cgroup limited to `cores` of CPU; returns its directory. */
export function limitCpu(pid: number, name: string, cores: number): string {
  const dir = join(CGROUP_CPU, name)
  mkdirSync(dir)
  writeFileSync(join(dir, 'cpu.cfs_period_us'), '100000')
  writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(Math.round(cores * 100_000)))
  writeFileSync(join(dir, 'cgroup.procs'), String(pid))
  return dir
}

/** Remove a cgroup once its process has exited. */
export function removeCgroup(dir: string): void {
  try { rmdirSync(dir) } catch { /* still busy or gone: left for the next boot */ }
}
