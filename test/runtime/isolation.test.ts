import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { makeSandbox, sh } from './busybox-rootfs.js';

let box: { dir: string; lower: string };
before(() => {
  box = makeSandbox();
});
after(() => rmSync(box.dir, { recursive: true, force: true }));

const DOCKER_DEFAULT_CAPS = '00000000a80425fb';

test('the command is pid 1 of its own pid namespace', async () => {
  const r = await sh(box.dir, box.lower, 'echo $$');
  assert.deepEqual(r.result, { kind: 'exited', code: 0 });
  assert.equal(r.stdout.trim(), '1');
});

test('host processes are invisible', async () => {
  // Only the shell and its pipeline exist: pids 1..4, none of the host's.
  const r = await sh(box.dir, box.lower, 'ls /proc | grep -E "^[0-9]+$"');
  const pids = r.stdout.trim().split('\n').map(Number);
  assert.ok(pids.includes(1));
  assert.ok(Math.max(...pids) <= 4, `pids seen: ${pids.join(' ')}`);
});

test('a host process cannot be signalled from inside', async () => {
  const r = await sh(box.dir, box.lower, `kill -0 ${process.pid}; echo rc=$?`);
  assert.match(r.stdout, /rc=1/);
});

test('the hostname is the container\'s', async () => {
  const r = await sh(box.dir, box.lower, 'hostname; cat /etc/hostname', { hostname: 'inner-host' });
  assert.equal(r.stdout, 'inner-host\ninner-host\n');
});

test('mount fails for lack of CAP_SYS_ADMIN', async () => {
  const r = await sh(box.dir, box.lower, 'mount -t tmpfs none /tmp; echo rc=$?');
  assert.match(r.stdout, /rc=[1-9]/);
  assert.match(r.stderr, /denied|not permitted/i);
});

test('the base layers cannot be remounted writable', async () => {
  const r = await sh(box.dir, box.lower, 'mount -o remount,rw /; echo rc=$?; mount -o remount,rw /proc/sys; echo rc=$?');
  assert.equal(r.stdout.split('\n').filter((l) => /^rc=[1-9]/.test(l)).length, 2, r.stdout);
});

test('effective, permitted and bounding capabilities are Docker\'s default set', async () => {
  const r = await sh(box.dir, box.lower, 'grep ^Cap /proc/self/status');
  const caps = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:\s+/)));
  assert.equal(caps.CapEff, DOCKER_DEFAULT_CAPS);
  assert.equal(caps.CapPrm, DOCKER_DEFAULT_CAPS);
  assert.equal(caps.CapBnd, DOCKER_DEFAULT_CAPS);
  assert.equal(caps.CapInh, '0000000000000000');
  assert.equal(caps.CapAmb, '0000000000000000');
  const eff = BigInt('0x' + caps.CapEff);
  for (const [name, bit] of [['CAP_SYS_ADMIN', 21n], ['CAP_NET_ADMIN', 12n], ['CAP_SYS_MODULE', 16n]] as const)
    assert.equal((eff >> bit) & 1n, 0n, `${name} must be absent`);
});

test('a non-root user has no effective capabilities', async () => {
  const r = await sh(box.dir, box.lower, 'grep -E "^Cap(Eff|Bnd)" /proc/self/status', { user: { uid: 65534, gid: 65534, groups: [] } });
  assert.match(r.stdout, /CapEff:\s+0000000000000000/);
  assert.match(r.stdout, new RegExp(`CapBnd:\\s+${DOCKER_DEFAULT_CAPS}`));
});

test('no_new_privs is set', async () => {
  const r = await sh(box.dir, box.lower, 'grep NoNewPrivs /proc/self/status');
  assert.match(r.stdout, /NoNewPrivs:\s+1/);
});

test('writing to /proc/sys fails', async () => {
  const r = await sh(box.dir, box.lower, 'echo 1 > /proc/sys/kernel/ns_last_pid; echo rc=$?; echo x > /proc/sysrq-trigger; echo rc=$?');
  assert.doesNotMatch(r.stdout, /rc=0/);
  assert.match(r.stderr, /Read-only file system/);
});

test('/sys is read-only', async () => {
  const r = await sh(box.dir, box.lower, 'touch /sys/x; echo rc=$?; grep " /sys " /proc/mounts');
  assert.match(r.stdout, /rc=1/);
  assert.match(r.stdout, /sysfs \/sys sysfs ro,/);
});

test('sensitive /proc paths are masked as Docker masks them', async () => {
  const r = await sh(box.dir, box.lower, 'for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do [ -e $f ] && wc -c < $f; done; ls /proc/acpi | wc -l');
  for (const n of r.stdout.trim().split('\n')) assert.equal(n.trim(), '0');
});

test('network none has only lo, and it is up', async () => {
  const r = await sh(box.dir, box.lower, 'ls /sys/class/net; ip -o link', { network: 'none' });
  assert.equal(r.stdout.split('\n')[0], 'lo');
  assert.equal(r.stdout.split('\n').filter((l) => /^\d+:/.test(l)).length, 1);
  assert.match(r.stdout, /lo: <LOOPBACK,UP/);
});

test('network host sees the host\'s interfaces', async () => {
  const r = await sh(box.dir, box.lower, 'ls /sys/class/net | wc -l');
  assert.ok(Number(r.stdout.trim()) >= 1);
});

test('a minimal /dev: the usual nodes, pts, shm, fd links', async () => {
  const r = await sh(box.dir, box.lower, 'cd /dev && ls -d null zero full random urandom tty ptmx pts shm fd stdin stdout stderr && echo ok > /dev/null && head -c 4 /dev/zero | wc -c && stat -c %a /dev/null');
  assert.equal(r.result.kind, 'exited');
  assert.match(r.stdout, /\n4\n666\n$/);
});

test('IPC objects live in the container\'s own namespace', async () => {
  const inner = await sh(box.dir, box.lower, 'readlink /proc/self/ns/ipc /proc/self/ns/uts /proc/self/ns/mnt /proc/self/ns/pid');
  const { readlinkSync } = await import('node:fs');
  for (const ns of ['ipc', 'uts', 'mnt', 'pid']) assert.ok(!inner.stdout.includes(readlinkSync(`/proc/self/ns/${ns}`)), ns);
});
