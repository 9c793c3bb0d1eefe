/** cpuBudget over fake cgroup trees: v2, v1 (split and joined controllers), nesting, and fallbacks. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { cpuBudget, usableCores } from '../../src/engine/cpu-budget.ts';

const base = mkdtempSync(join(tmpdir(), 'chexpo-cgroup-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;

/** A fake machine: files under a fresh cgroup root, plus its /proc/self/cgroup. */
function fakeHost(files: Record<string, string>, procSelfCgroup: string) {
  const dir = join(base, `host-${n++}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'cg', path)), { recursive: true });
    writeFileSync(join(dir, 'cg', path), text);
  }
  mkdirSync(join(dir, 'cg'), { recursive: true });
  writeFileSync(join(dir, 'self'), procSelfCgroup);
  return { cgroupRoot: join(dir, 'cg'), procSelfCgroup: join(dir, 'self'), hostCores: 64 };
}

test('cgroup v2: a 2-CPU quota on a 64-core node gives 2 cores; "max" gives the host', () => {
  const limited = fakeHost({ 'cgroup.controllers': 'cpu memory', 'cpu.max': '200000 100000\n' }, '0::/\n');
  assert.deepEqual(cpuBudget(limited), { cores: 2, source: 'cgroup2', quotaCores: 2, hostCores: 64 });
  const unlimited = fakeHost({ 'cgroup.controllers': 'cpu', 'cpu.max': 'max 100000\n' }, '0::/\n');
  assert.deepEqual(cpuBudget(unlimited), { cores: 64, source: 'host', hostCores: 64 });
});

test('cgroup v2: fractional quotas round down, never below 1; the tightest ancestor wins', () => {
  const half = fakeHost({ 'cgroup.controllers': '', 'cpu.max': '50000 100000' }, '0::/');
  assert.equal(usableCores(half), 1);
  const nested = fakeHost(
    {
      'cgroup.controllers': 'cpu',
      'cpu.max': 'max 100000',
      'kubepods/cpu.max': '150000 100000',
      'kubepods/pod1/cpu.max': '400000 100000',
      'kubepods/pod1/ctr/cpu.max': 'max 100000',
    },
    '0::/kubepods/pod1/ctr\n',
  );
  assert.deepEqual(cpuBudget(nested), { cores: 1, source: 'cgroup2', quotaCores: 1.5, hostCores: 64 });
});

test('cgroup v2: a path that does not exist under the mount (no cgroup namespace) falls back to the mount', () => {
  const host = fakeHost({ 'cgroup.controllers': 'cpu', 'cpu.max': '300000 100000' }, '0::/docker/abc\n');
  assert.equal(usableCores(host), 3);
});

test('cgroup v1: joined "cpu,cpuacct" and split "cpu" controllers; -1 means no quota', () => {
  const joined = fakeHost(
    { 'cpu,cpuacct/cpu.cfs_quota_us': '400000\n', 'cpu,cpuacct/cpu.cfs_period_us': '100000\n' },
    '4:cpu,cpuacct:/\n0::/\n',
  );
  assert.deepEqual(cpuBudget(joined), { cores: 4, source: 'cgroup1', quotaCores: 4, hostCores: 64 });
  const split = fakeHost(
    { 'cpu/grp/cpu.cfs_quota_us': '250000', 'cpu/grp/cpu.cfs_period_us': '100000' },
    '2:cpuacct:/grp\n1:cpu:/grp\n',
  );
  assert.equal(usableCores(split), 2);
  const none = fakeHost(
    { 'cpu/cpu.cfs_quota_us': '-1', 'cpu/cpu.cfs_period_us': '100000' },
    '1:cpu:/\n0::/\n',
  );
  assert.deepEqual(cpuBudget(none), { cores: 64, source: 'host', hostCores: 64 });
});

test('a quota above the host cores is capped by the host; no cgroup files at all is the host', () => {
  const big = fakeHost({ 'cgroup.controllers': 'cpu', 'cpu.max': '12800000 100000' }, '0::/');
  assert.deepEqual(cpuBudget(big), { cores: 64, source: 'cgroup2', quotaCores: 128, hostCores: 64 });
  const bare = fakeHost({}, '');
  assert.deepEqual(cpuBudget({ ...bare, procSelfCgroup: join(base, 'missing') }), {
    cores: 64,
    source: 'host',
    hostCores: 64,
  });
  const garbage = fakeHost({ 'cgroup.controllers': 'cpu', 'cpu.max': 'lots of cpu' }, '0::/');
  assert.equal(usableCores(garbage), 64);
});

test('on this machine the budget is a positive whole number no larger than the host', () => {
  const budget = cpuBudget();
  assert.ok(Number.isInteger(budget.cores) && budget.cores >= 1 && budget.cores <= budget.hostCores);
});
