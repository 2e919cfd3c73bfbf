import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli, type CliResult } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';

// --format, --filter, --digests and -q of images, ps, inspect and history through the CLI,
// shaped as docker/cli prints them (cli/command/formatter: image.go, container.go,
// history.go; inspect runs the template over the JSON as maps).
let work: string;
let root: string;

before(async () => {
  ({ work, root } = await busyboxWork('tsbuild-format-'));
  await writeTree(join(work, 'labelled'), { Dockerfile: 'FROM busybox\nLABEL tier=web\nRUN echo x > /x\n' });
  assert.equal((await cli(['build', '-q', '-t', 'labelled:v1', join(work, 'labelled')])).code, 0);
  await writeTree(join(work, 'plain'), { Dockerfile: 'FROM busybox\nRUN echo y > /y\n' });
  assert.equal((await cli(['build', '-q', '-t', 'plain', join(work, 'plain')])).code, 0);
  await writeTree(join(work, 'dangling'), { Dockerfile: 'FROM busybox\nRUN echo z > /z\n' });
  assert.equal((await cli(['build', '-q', join(work, 'dangling')])).code, 0);
});

const cli = (args: string[]): Promise<CliResult> => runCli(args, { root });

async function out(args: string[]): Promise<string> {
  const r = await cli(args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('images --format: fields, table with titles, {{json .}} with Docker\'s keys; --digests adds DIGEST', async () => {
  const names = (await out(['images', '--format', '{{.Repository}}:{{.Tag}}'])).trim().split('\n').sort();
  assert.deepEqual(names, ['<none>:<none>', 'busybox:latest', 'labelled:v1', 'plain:latest']);
  const table = (await out(['images', '--format', 'table {{.Repository}}\\t{{.Tag}}'])).split('\n');
  assert.match(table[0], /^REPOSITORY {3,}TAG$/);
  const row = JSON.parse((await out(['images', '--format', '{{json .}}', 'plain'])).trim());
  assert.deepEqual(Object.keys(row), ['Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize']);
  assert.equal(row.Repository, 'plain');
  assert.match(row.CreatedAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);
  const digests = (await out(['images', '--digests', 'plain'])).split('\n');
  assert.match(digests[0], /^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE$/);
  assert.match(digests[1], /^plain +latest +sha256:[0-9a-f]{64} +[0-9a-f]{12} /);
});

test('images --filter dangling, reference (a glob), label; -q gives ids once', async () => {
  assert.equal((await out(['images', '--filter', 'dangling=true', '--format', '{{.Repository}}'])).trim(), '<none>');
  assert.doesNotMatch(await out(['images', '--filter', 'dangling=false']), /<none>/);
  assert.equal((await out(['images', '--filter', 'reference=lab*', '--format', '{{.Repository}}:{{.Tag}}'])).trim(), 'labelled:v1');
  assert.equal((await out(['images', '--filter', 'reference=*:latest', '--format', '{{.Repository}}'])).trim().split('\n').sort().join(','), 'busybox,plain');
  assert.equal((await out(['images', '--filter', 'label=tier=web', '--format', '{{.Repository}}'])).trim(), 'labelled');
  assert.equal((await out(['images', '--filter', 'label=tier', '--format', '{{.Repository}}'])).trim(), 'labelled');
  const ids = (await out(['images', '-q', '--filter', 'label=tier'])).trim().split('\n');
  assert.equal(ids.length, 1);
  assert.match(ids[0], /^[0-9a-f]{12}$/);
  const bad = await cli(['images', '--filter', 'colour=red']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid filter 'colour'/);
});

test('ps --filter status and name, --format with the container fields; -q', async () => {
  assert.equal((await cli(['run', '--name', 'done-1', 'busybox', 'sh', '-c', 'exit 2'])).code, 2);
  assert.equal((await cli(['run', '-d', '--name', 'live-1', 'busybox', 'sleep', '60'])).code, 0);
  try {
    assert.equal((await out(['ps', '--format', '{{.Names}} {{.State}} {{.Command}}'])).trim(), 'live-1 running "sleep 60"');
    assert.equal((await out(['ps', '--filter', 'status=exited', '--format', '{{.Names}} {{.Status}}'])).trim().replace(/ \d+ seconds? ago| Less than a second ago/, ''), 'done-1 Exited (2)');
    assert.equal((await out(['ps', '-a', '--filter', 'name=^live', '--format', '{{.Names}}'])).trim(), 'live-1');
    assert.equal((await out(['ps', '-a', '--filter', 'exited=2', '-q'])).trim().length, 12);
    const table = (await out(['ps', '--format', 'table {{.ID}}\\t{{.Names}}'])).split('\n');
    assert.match(table[0], /^CONTAINER ID +NAMES$/);
    const bad = await cli(['ps', '--filter', 'status=sleeping']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid filter 'status=sleeping'/);
  } finally {
    await cli(['rm', '-f', 'live-1']);
  }
});

test('inspect -f over images and containers; history --format; a bad template is one line', async () => {
  assert.equal(await out(['inspect', '-f', '{{index .Config.Labels "tier"}} {{len .RootFS.Layers}}', 'labelled:v1']), 'web 2\n');
  assert.equal(await out(['inspect', '-f', '{{.Config.Labels}}', 'labelled:v1']), 'map[tier:web]\n');
  assert.equal((await cli(['run', '--name', 'inspect-me', '-e', 'K=V', 'busybox', 'true'])).code, 0);
  assert.equal(await out(['inspect', '-f', '{{.Name}} {{.State.ExitCode}} {{.Config.Cmd}} {{.Nope}}', 'inspect-me']), '/inspect-me 0 [true] <no value>\n');
  assert.match(await out(['inspect', '--format', '{{range .Config.Env}}{{println .}}{{end}}', 'inspect-me']), /^K=V$/m);
  const history = (await out(['history', '--format', '{{.CreatedBy}}', 'plain'])).split('\n');
  assert.match(history[0], /RUN .*echo y > \/y/);
  const bad = await cli(['images', '--format', '{{.Repository']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /template parsing error/);
  const unknownField = await cli(['ps', '-a', '--format', '{{.Colour}}']);
  assert.equal(unknownField.code, 2);
  assert.match(unknownField.stderr, /can't evaluate field Colour/);
});
