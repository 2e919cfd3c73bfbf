/**
 * The device filter on a cgroup v2 host: an eBPF program the helper attaches to the
 * container's cgroup (runtime-helper/device-filter.c; runc's libcontainer/cgroups/devices/
 * devicefilter.go is the model). This machine is cgroup v1, so the test mounts a cgroup2
 * hierarchy of its own (no controllers needed: device programs attach to any v2 cgroup) and
 * binds a host loop device in with `devices` (a mount that is not nodev), so only the
 * filter stands between the container and the device.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createCgroup, type CgroupLayout } from '../../executor/cgroups.js';
import { deviceRules } from '../../executor/cgroups-limits.js';
import { makeSandbox, sh } from './busybox-rootfs.js';
import { makeLoopDevice } from '../helpers/loop-device.js';

const SECRET = 'V2-FILTER-SECRET';
let box: { dir: string; lower: string };
let cg2: string;
let loop: ReturnType<typeof makeLoopDevice>;

before(() => {
  box = makeSandbox();
  cg2 = mkdtempSync(join(tmpdir(), 'tsbuild-cg2-'));
  execFileSync('mount', ['-t', 'cgroup2', 'none', cg2]);
  loop = makeLoopDevice(join(box.dir, 'backing'), SECRET);
});

after(() => {
  loop?.detach();
  if (cg2) {
    execFileSync('sh', ['-c', `rmdir ${cg2}/tsbuild/* ${cg2}/tsbuild 2>/dev/null; umount ${cg2}; rmdir ${cg2}`]);
  }
  rmSync(box.dir, { recursive: true, force: true });
});

const layout = (): CgroupLayout => ({ v1: {}, v2: { mount: cg2, controllers: [] } });

async function readDevice(extra: NonNullable<Parameters<typeof deviceRules>[0]>) {
  const cgroup = await createCgroup(`dfilter-${process.pid}-${extra.length}`, { deviceRules: deviceRules(extra) }, layout());
  assert.ok(cgroup?.deviceFilter, 'a v2 cgroup with a device filter');
  try {
    return await sh(box.dir, box.lower, `head -c ${SECRET.length} /dev/xloop; echo " rc=$?"; echo x > /dev/null && echo null-ok`, {
      devices: [{ source: loop.path, target: '/dev/xloop' }],
      cgroups: cgroup.dirs,
      deviceFilter: cgroup.deviceFilter,
    });
  } finally {
    await cgroup.remove();
  }
}

test('cgroup v2: the eBPF device filter denies a device outside the allow-list (EPERM) and keeps the default set', async () => {
  const r = await readDevice([]);
  assert.deepEqual(r.result, { kind: 'exited', code: 0 }, r.stderr);
  assert.match(r.stdout, /^ rc=1\nnull-ok\n$/);
  assert.match(r.stderr, /Operation not permitted/);
});

test('cgroup v2: a rule for the device (run --device) lets it through', async () => {
  const r = await readDevice([{ type: 'b', major: 7, minor: loop.minor, access: 'rwm' }]);
  assert.equal(r.stdout, `${SECRET} rc=0\nnull-ok\n`, r.stderr);
});
