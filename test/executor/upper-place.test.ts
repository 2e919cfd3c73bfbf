import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CGROUP_SHARE, MAX_TMPFS_BYTES, cgroupMemoryAt, tmpfsRoom } from '../../executor/memory-budget.js';
import { UNKNOWN_STEP_BYTES, chooseUpperPlace, type UpperPlace } from '../../executor/upper-place.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

const places: { name: string; opts: Parameters<typeof chooseUpperPlace>[0]; want: UpperPlace }[] = [
  { name: 'disk when asked', opts: { setting: 'disk', roomBytes: 8 * GiB }, want: { place: 'disk' } },
  { name: 'a fixed size wins', opts: { setting: 'auto', fixedBytes: 2 * MiB, roomBytes: 0 }, want: { place: 'memory', sizeBytes: 2 * MiB } },
  { name: 'memory when asked, with all the room', opts: { setting: 'memory', roomBytes: 3 * GiB }, want: { place: 'memory', sizeBytes: 3 * GiB } },
  { name: 'an unknown step in memory when the room holds 2 GiB', opts: { setting: 'auto', roomBytes: UNKNOWN_STEP_BYTES }, want: { place: 'memory', sizeBytes: UNKNOWN_STEP_BYTES, expectedBytes: UNKNOWN_STEP_BYTES } },
  { name: 'an unknown step on disk under a 1 GiB cgroup (512 MiB room)', opts: { setting: 'auto', roomBytes: 512 * MiB }, want: { place: 'disk' } },
  { name: 'a step that wrote 100 MiB last time fits 512 MiB', opts: { setting: 'auto', seen: { layerBytes: 100 * MiB }, roomBytes: 512 * MiB }, want: { place: 'memory', sizeBytes: 512 * MiB, expectedBytes: 264 * MiB } },
  { name: 'a step that wrote 300 MiB last time does not fit 512 MiB', opts: { setting: 'auto', seen: { layerBytes: 300 * MiB }, roomBytes: 512 * MiB }, want: { place: 'disk' } },
  { name: 'a step that filled memory last time goes to disk', opts: { setting: 'auto', seen: { filledBytes: 8 * GiB }, roomBytes: 8 * GiB }, want: { place: 'disk' } },
];
for (const c of places) test(`upper dir place: ${c.name}`, () => assert.deepEqual(chooseUpperPlace(c.opts), c.want));

test('tmpfs room: half the cgroup limit for all mounts together, half of what the cgroup has left, half the host, 8 GiB', () => {
  const host = { hostAvailableBytes: 20 * GiB };
  assert.equal(tmpfsRoom(host, 0), MAX_TMPFS_BYTES);
  assert.equal(tmpfsRoom({ hostAvailableBytes: 4 * GiB }, 0), 2 * GiB);
  const cgroup = { limitBytes: 1 * GiB, workingSetBytes: 100 * MiB };
  assert.equal(tmpfsRoom({ ...host, cgroup: { limitBytes: GiB, workingSetBytes: 0 } }, 0), CGROUP_SHARE * GiB);
  assert.equal(tmpfsRoom({ ...host, cgroup }, 0), 462 * MiB);
  assert.equal(tmpfsRoom({ ...host, cgroup }, 400 * MiB), 112 * MiB, 'what this process has mounted already counts');
  assert.equal(tmpfsRoom({ ...host, cgroup: { limitBytes: GiB, workingSetBytes: 900 * MiB } }, 0), 62 * MiB);
  assert.equal(tmpfsRoom({ ...host, cgroup }, GiB), 0);
});

test('cgroup memory: v1 and v2 files, the binding level up to the mount, inactive file pages not counted', () => {
  const v1: Record<string, string> = {
    '/cg/memory/job/step/memory.limit_in_bytes': '9223372036854771712\n',
    '/cg/memory/job/memory.limit_in_bytes': String(GiB),
    '/cg/memory/job/memory.usage_in_bytes': String(600 * MiB),
    '/cg/memory/job/memory.stat': `cache 1\ntotal_inactive_file ${200 * MiB}\n`,
    '/cg/memory/memory.limit_in_bytes': '9223372036854771712\n',
  };
  assert.deepEqual(cgroupMemoryAt('/cg/memory/job/step', '/cg/memory', false, (p) => v1[p]), { limitBytes: GiB, workingSetBytes: 400 * MiB });
  const v2: Record<string, string> = {
    '/sys/fs/cgroup/pod/memory.max': String(2 * GiB),
    '/sys/fs/cgroup/pod/memory.current': String(GiB),
    '/sys/fs/cgroup/pod/memory.stat': `anon 5\ninactive_file ${GiB}\n`,
    '/sys/fs/cgroup/memory.max': 'max\n',
  };
  assert.deepEqual(cgroupMemoryAt('/sys/fs/cgroup/pod', '/sys/fs/cgroup', true, (p) => v2[p]), { limitBytes: 2 * GiB, workingSetBytes: 0 });
  assert.equal(cgroupMemoryAt('/sys/fs/cgroup/x', '/sys/fs/cgroup', true, () => 'max'), undefined, 'no limit');
});
