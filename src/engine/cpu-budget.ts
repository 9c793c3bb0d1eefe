/**
 * How many cores this process may really use. Node 20's `os.availableParallelism()` counts the
 * node's cores (or the affinity mask), not a container's CPU quota, so a pod limited to 2 CPUs on a
 * 64-core node would start 64 intra-op threads and be throttled. The quota lives in the cgroup:
 *
 *   v2: <root>/<path>/cpu.max            "<quota> <period>" or "max <period>"
 *   v1: <root>/cpu[,cpuacct]/<path>/cpu.cfs_quota_us (-1 = none) and cpu.cfs_period_us
 *
 * `<path>` comes from /proc/self/cgroup; every ancestor up to the mount is checked too (a parent's
 * limit binds its children), and the tightest quota wins. Quota cores are rounded down (min 1): a
 * thread count above the quota only buys throttling. Anything unreadable falls back to the host.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, posix } from 'node:path';

export interface CpuBudget {
  /** Whole cores to size thread pools by: min(host cores, floor(quota)), at least 1. */
  cores: number;
  /** Where the number came from. */
  source: 'cgroup2' | 'cgroup1' | 'host';
  /** The quota as fractional cores (quota / period), when a cgroup sets one. */
  quotaCores?: number;
  hostCores: number;
}

export interface CpuBudgetOptions {
  /** Where the cgroup filesystem is mounted; default /sys/fs/cgroup (tests point at fake files). */
  cgroupRoot?: string;
  /** The process's cgroup membership file; default /proc/self/cgroup. */
  procSelfCgroup?: string;
  /** Default os.availableParallelism(). */
  hostCores?: number;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The directory and its ancestors up to (and including) `mount`, innermost first. */
function upToMount(mount: string, cgroupPath: string): string[] {
  const dirs: string[] = [];
  let path = posix.normalize(`/${cgroupPath}`);
  for (;;) {
    dirs.push(join(mount, path));
    if (path === '/') return dirs;
    path = posix.dirname(path);
  }
}

/** Membership lines "<id>:<controllers>:<path>"; v2 is the line with id 0 and no controllers. */
function membership(procSelfCgroup: string): { v2?: string; v1Cpu?: { controllers: string; path: string } } {
  const text = readText(procSelfCgroup) ?? '';
  const found: { v2?: string; v1Cpu?: { controllers: string; path: string } } = {};
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, id, controllers, path] = match;
    if (id === '0' && controllers === '') found.v2 = path;
    else if (controllers.split(',').includes('cpu')) found.v1Cpu = { controllers, path };
  }
  return found;
}

/** cpu.max: "max 100000" → no limit; "150000 100000" → 1.5 cores. */
function v2Quota(dir: string): number | undefined {
  const text = readText(join(dir, 'cpu.max'));
  if (!text) return undefined;
  const [quota, period] = text.split(/\s+/);
  const q = Number(quota);
  const p = Number(period ?? 100_000);
  return quota !== 'max' && q > 0 && p > 0 ? q / p : undefined;
}

function v1Quota(dir: string): number | undefined {
  const quota = Number(readText(join(dir, 'cpu.cfs_quota_us')));
  const period = Number(readText(join(dir, 'cpu.cfs_period_us')));
  return quota > 0 && period > 0 ? quota / period : undefined;
}

function tightest(dirs: string[], read: (dir: string) => number | undefined): number | undefined {
  let min: number | undefined;
  for (const dir of dirs) {
    const q = read(dir);
    if (q !== undefined && (min === undefined || q < min)) min = q;
  }
  return min;
}

/** The v1 cpu controller's mount: "cpu,cpuacct", "cpu" or "cpuacct,cpu", whichever exists. */
function v1Mount(root: string, controllers: string): string | undefined {
  const names = [controllers, 'cpu,cpuacct', 'cpuacct,cpu', 'cpu'];
  return names.map((n) => join(root, n)).find((dir) => existsSync(dir));
}

export function cpuBudget(options: CpuBudgetOptions = {}): CpuBudget {
  const root = options.cgroupRoot ?? '/sys/fs/cgroup';
  const hostCores = Math.max(1, options.hostCores ?? availableParallelism());
  const member = membership(options.procSelfCgroup ?? '/proc/self/cgroup');
  const budget = (source: CpuBudget['source'], quotaCores: number | undefined): CpuBudget =>
    quotaCores === undefined
      ? { cores: hostCores, source: 'host', hostCores }
      : { cores: Math.max(1, Math.min(hostCores, Math.floor(quotaCores))), source, quotaCores, hostCores };

  // A unified (v2) hierarchy has cpu.max at its mount; hybrid hosts list a v2 path too but keep the cpu controller on v1.
  if (existsSync(join(root, 'cgroup.controllers'))) {
    const quota = tightest(upToMount(root, member.v2 ?? '/'), v2Quota);
    if (quota !== undefined) return budget('cgroup2', quota);
  }
  const mount = v1Mount(root, member.v1Cpu?.controllers ?? 'cpu,cpuacct');
  if (mount) {
    const quota = tightest(upToMount(mount, member.v1Cpu?.path ?? '/'), v1Quota);
    if (quota !== undefined) return budget('cgroup1', quota);
  }
  return budget('host', undefined);
}

/** Whole cores usable by this process (see cpuBudget). */
export function usableCores(options?: CpuBudgetOptions): number {
  return cpuBudget(options).cores;
}
