import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';

// Containers and the image commands that meet them, as Docker answers: inspect shows a
// container, rmi refuses an image a stopped container was made from, rm of a running one
// says what to do (stop it, or force it).
let work: string;
let root: string;

before(async () => {
  ({ work, root } = await busyboxWork());
});

test('inspect of a container name prints Docker\'s container shape; --type picks the kind', async () => {
  const r = await runCli(['run', '--name', 'inspected', 'busybox', 'sh', '-c', 'exit 3'], { root });
  assert.equal(r.code, 3, r.stderr);
  const shown = await runCli(['inspect', 'inspected'], { root });
  assert.equal(shown.code, 0, shown.stderr);
  const [c] = JSON.parse(shown.stdout) as Record<string, any>[];
  assert.match(c.Id, /^[0-9a-f]{64}$/);
  assert.equal(c.Name, '/inspected');
  assert.deepEqual([c.Path, c.Args], ['sh', ['-c', 'exit 3']]);
  assert.deepEqual([c.State.Status, c.State.Running, c.State.ExitCode], ['exited', false, 3]);
  assert.match(c.Image, /^sha256:[0-9a-f]{64}$/);
  assert.equal(c.Config.Image, 'busybox');
  const asImage = await runCli(['inspect', '--type', 'image', 'inspected'], { root });
  assert.equal(asImage.code, 1);
  assert.match(asImage.stderr, /No such image: inspected/);
  const none = await runCli(['inspect', 'no-such-thing'], { root });
  assert.equal(none.code, 1);
  assert.equal(none.stdout, '[]\n');
  assert.match(none.stderr, /No such object: no-such-thing/);
});

// daemon/images/image_delete.go in moby: the last name of an image a container uses is not
// removed without -f ("unable to remove repository reference").
test('rmi of an image a stopped container uses is refused without -f, and the image keeps its name', async () => {
  const ctx = join(work, 'ctx-used');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN echo used > /used\n' });
  assert.equal((await runCli(['build', '-q', '-t', 'used', ctx], { root })).code, 0);
  const run = await runCli(['run', '--name', 'user-of-used', 'used', 'true'], { root });
  assert.equal(run.code, 0, run.stderr);
  const r = await runCli(['rmi', 'used'], { root });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /conflict: unable to remove repository reference "used" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}/);
  assert.match((await runCli(['images'], { root })).stdout, /^used\s+latest/m);
  const forced = await runCli(['rmi', '-f', 'used'], { root });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /Untagged: used:latest/);
});

test("rm of a running container says to stop it or force it, as Docker does, and rm -f removes it", async () => {
  const started = await runCli(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '60'], { root });
  assert.equal(started.code, 0, started.stderr);
  const r = await runCli(['rm', 'busy'], { root });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot remove container "\/busy": container is running: stop the container before removing or force remove/);
  const forced = await runCli(['rm', '-f', 'busy'], { root });
  assert.equal(forced.code, 0, forced.stderr);
});

test('a folder named like no command is still a build context (a known command would win)', async () => {
  await writeTree(join(work, 'logbook'), { Dockerfile: 'FROM scratch\nLABEL from=logbook\n' });
  const r = await runCli(['-q', 'logbook'], { root, cwd: work });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}$/m);
});
