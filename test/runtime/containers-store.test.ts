import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Digest } from '../../common/index.js';
import {
  containerPaths,
  createContainer,
  findContainer,
  listContainers,
  NameInUseError,
  processStartTicks,
  removeContainer,
  saveContainer,
} from '../../store/containers.js';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'tsbuild-containers-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const image = { id: ('sha256:' + 'a'.repeat(64)) as Digest, name: 'busybox' };
const init = (over: { name?: string; autoRemove?: boolean } = {}) => ({ image, command: ['sh'], autoRemove: false, lowerDirs: [], ...over });

test('a new container gets a 64-hex id, a Docker-style name and its dirs', async () => {
  const { record, paths } = await createContainer(root, init());
  assert.match(record.id, /^[a-f0-9]{64}$/);
  assert.match(record.name, /^[a-z]+_[a-z]+$/);
  for (const d of [paths.upperDir, paths.workDir, paths.mountPoint, paths.etcDir, paths.config]) assert.ok(existsSync(d), d);
  assert.deepEqual(record.status, { state: 'created' });
});

test('names are unique', async () => {
  await createContainer(root, init({ name: 'web' }));
  await assert.rejects(createContainer(root, init({ name: 'web' })), NameInUseError);
});

test('find by name, full id, and unique prefix', async () => {
  const { record } = await createContainer(root, init({ name: 'findme' }));
  assert.equal((await findContainer(root, 'findme'))?.id, record.id);
  assert.equal((await findContainer(root, record.id))?.id, record.id);
  assert.equal((await findContainer(root, record.id.slice(0, 12)))?.id, record.id);
  assert.equal(await findContainer(root, 'nobody-here'), undefined);
});

test('a "running" record whose helper is dead reads as exited, with the helper\'s status file', async () => {
  const { record } = await createContainer(root, init({ name: 'ghost' }));
  const child = spawn('sleep', ['0']);
  await new Promise((r) => child.on('exit', r));
  await saveContainer(root, { ...record, status: { state: 'running' }, pid: child.pid, pidStartTicks: 12345 });
  let c = await findContainer(root, 'ghost');
  assert.deepEqual(c?.status, { state: 'exited', code: undefined, finishedAt: undefined });
  writeFileSync(containerPaths(root, record.id).statusFile, 'signaled 9\n');
  c = await findContainer(root, 'ghost');
  assert.equal(c?.status.state === 'exited' && c.status.code, 137);
});

test('a live helper keeps its container running (pid and start time both match)', async () => {
  const { record } = await createContainer(root, init({ name: 'alive' }));
  await saveContainer(root, { ...record, status: { state: 'running' }, pid: process.pid, pidStartTicks: processStartTicks(process.pid) });
  assert.deepEqual((await findContainer(root, 'alive'))?.status, { state: 'running' });
  // The same pid with another start time is pid reuse: not ours.
  await saveContainer(root, { ...record, status: { state: 'running' }, pid: process.pid, pidStartTicks: 1 });
  assert.equal((await findContainer(root, 'alive'))?.status.state, 'exited');
});

test('a gone --rm container is swept by the next listing, name included', async () => {
  const { record, paths } = await createContainer(root, init({ name: 'tmp1', autoRemove: true }));
  await saveContainer(root, { ...record, status: { state: 'running' }, pid: 999999999, pidStartTicks: 1 });
  assert.ok(!(await listContainers(root)).some((c) => c.id === record.id));
  assert.ok(!existsSync(paths.dir));
  assert.ok(!existsSync(join(root, 'containers', 'names', 'tmp1')));
  await createContainer(root, init({ name: 'tmp1' })); // the name is free again
});

test('removeContainer frees the name', async () => {
  const { record } = await createContainer(root, init({ name: 'gone' }));
  await removeContainer(root, record);
  assert.equal(await findContainer(root, 'gone'), undefined);
  await createContainer(root, init({ name: 'gone' }));
});
