import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { cliPath, runCli } from '../../cli/tsbuild.js';
import { tempDir } from '../helpers/temp.js';
import { writeTree } from '../helpers/files.js';

// A fully cached build is replayed by the front door (front-door/, records written by
// cli/build-replay.ts) when nothing it depended on changed;
// TSBUILD_DEBUG=replay makes it say so on stderr. Each check below changes one input and
// expects the real build (and its real result) back. Any write to index.json (a tag
// moved) makes the next build run and record again.

const exec = promisify(execFile);
const REPLAYED = 'tsbuild: replayed a fully cached build\n';
let root: string;
let work: string;
let ctx: string;

async function tsbuild(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = await runCli(['--root', root, ...args], { cwd: work, env: { TSBUILD_DEBUG: 'replay', ...env } });
  assert.equal(r.code, 0, r.stderr);
  return { id: r.stdout.trim(), stderr: r.stderr, replayed: r.stderr.includes(REPLAYED) };
}

const build = (extra: string[] = [], env: NodeJS.ProcessEnv = {}) => tsbuild(['build', '-q', '-t', 'app', ...extra, ctx], env);

/** Paths changed less than a second ago are not trusted to a replay (clock resolution): wait. */
const settle = () => sleep(1100);

before(async () => {
  work = await tempDir();
  root = join(work, 'root');
  ctx = join(work, 'ctx');
  await writeTree(join(work, 'base'), { Dockerfile: 'FROM scratch\nCOPY b.txt /\n', 'b.txt': 'base one\n' });
  await writeTree(join(work, 'base2'), { Dockerfile: 'FROM scratch\nCOPY b.txt /\n', 'b.txt': 'base two\n' });
  await writeTree(ctx, {
    Dockerfile: 'FROM base\nARG V=1\nCOPY app /app\nCOPY top.txt /\n',
    'top.txt': 'top\n',
    'app/a.txt': 'aaaa\n',
    'app/sub/b.txt': 'bbbb\n',
  });
  await tsbuild(['build', '-q', '-t', 'base', join(work, 'base')]);
  await settle();
});

test('the second cached build is replayed, with the same output and image', async () => {
  const cold = await build();
  assert.equal(cold.replayed, false);
  const cached = await build();
  assert.equal(cached.replayed, false, 'the first cached build runs (and leaves its record)');
  assert.equal(cached.id, cold.id);
  const replay = await build();
  assert.equal(replay.replayed, true);
  assert.equal(replay.id, cold.id);
  assert.equal((await build([], { TSBUILD_REPLAY: 'off' })).replayed, false);
});

test('plain progress is printed again exactly', async () => {
  const args = ['build', '--progress', 'plain', '-t', 'app', ctx];
  const first = await tsbuild(args);
  assert.match(first.stderr, /#\d+ CACHED/);
  const again = await tsbuild(args);
  assert.equal(again.replayed, true);
  assert.equal(again.stderr, first.stderr + REPLAYED);
});

test('--iidfile is written by a replay too', async () => {
  const iid = join(work, 'iid');
  const first = await build(['--iidfile', iid]);
  await rm(iid);
  const again = await build(['--iidfile', iid]);
  assert.equal(again.replayed, true);
  assert.equal(await readFile(iid, 'utf8'), first.id);
});

test('a changed context file is seen even with its size and mtime kept', async () => {
  const before = await build();
  assert.equal(before.replayed, true);
  const file = join(ctx, 'app', 'a.txt');
  const st = await stat(file);
  await writeFile(file, 'AAAA\n');
  await utimes(file, st.atime, st.mtime);
  const after = await build();
  assert.equal(after.replayed, false);
  assert.notEqual(after.id, before.id);
});

test('the times in a replay record are compared as Node reads them: any nanoseconds still replay, a ns later does not', async () => {
  // The record keeps the walk's own lstat times, sec * 1e3 + nsec / 1e6 as doubles; the front
  // door computes the same double from its stat and reads the recorded one back (record.c).
  const times = ['1700000000.000000001', '1700000000.999999999', '1234567890.123456789', '-12345.678901234'];
  for (const [i, t] of times.entries()) {
    await writeFile(join(ctx, 'app', `t${i}.txt`), `${t}\n`);
    await exec('touch', ['-h', '-d', `@${t}`, join(ctx, 'app', `t${i}.txt`)]);
  }
  await settle();
  await build(); // the COPY runs
  await build(); // fully cached: recorded
  assert.equal((await build()).replayed, true);
  await exec('touch', ['-h', '-d', '@1700000000.000000002', join(ctx, 'app', 't0.txt')]);
  assert.equal((await build()).replayed, false);
  for (const i of times.keys()) await rm(join(ctx, 'app', `t${i}.txt`));
  await settle();
});

test('a file added to a copied directory, or a new .dockerignore, is seen', async () => {
  const before = await build();
  await writeFile(join(ctx, 'app', 'sub', 'new.txt'), 'new\n');
  const added = await build();
  assert.equal(added.replayed, false);
  assert.notEqual(added.id, before.id);
  await writeFile(join(ctx, '.dockerignore'), 'app/sub\n');
  const ignored = await build();
  assert.equal(ignored.replayed, false);
  assert.notEqual(ignored.id, added.id);
  await rm(join(ctx, '.dockerignore'));
  assert.equal((await build()).id, added.id);
});

test('a base image name that moved, or a tag that moved, is seen', async () => {
  await settle();
  const first = await build();
  const recorded = await build();
  assert.equal(recorded.replayed, true, 'replay resumes once the context has settled');
  // The base name now points at another image: the result changes.
  await tsbuild(['build', '-q', '-t', 'base', join(work, 'base2')]);
  const rebased = await build();
  assert.equal(rebased.replayed, false);
  assert.notEqual(rebased.id, first.id);
  await tsbuild(['build', '-q', '-t', 'base', join(work, 'base')]);
  assert.equal((await build()).id, first.id); // names the result again: index.json changed
  await build(); // leaves the record
  assert.equal((await build()).replayed, true);
  // Our own tag now points elsewhere: the build runs and names its result again.
  await tsbuild(['tag', 'base', 'app']);
  const retagged = await build();
  assert.equal(retagged.replayed, false);
  const inspected = await runCli(['--root', root, 'inspect', 'app'], { cwd: work });
  assert.equal((JSON.parse(inspected.stdout) as { Id: string }[])[0].Id, first.id, inspected.stderr);
});

test('prune drops every replay; other arguments or environment never match', async () => {
  await build();
  assert.equal((await build()).replayed, true);
  await tsbuild(['prune']);
  assert.equal((await build()).replayed, false, 'prune may have removed the cache records the build relied on');
  assert.equal((await build(['--build-arg', 'V=2'])).replayed, false);
  assert.equal((await build([], { SOURCE_DATE_EPOCH: '0' })).replayed, false);
  await build(); // names the result again: index.json changed
  await build(); // leaves the record
  assert.equal((await build()).replayed, true);
});

test('a build given an option outside the replayable list is never replayed', async () => {
  // --secret reads a file the record does not watch: a replay would print a stale result.
  await writeFile(join(work, 'token'), 'one\n');
  const secret = ['--secret', 'id=token,src=token'];
  await build(secret);
  await settle();
  await build(secret);
  assert.equal((await build(secret)).replayed, false);
  // The same build without it is replayed, so the option is what stops it.
  await build();
  assert.equal((await build()).replayed, true);
});

test('replay works through a symlink to the bin (npm links it), and never on a terminal', async () => {
  const link = join(work, 'tsbuild.cjs');
  await symlink(cliPath, link);
  await build();
  const viaLink = await runCli(['--root', root, 'build', '-q', '-t', 'app', ctx], { cwd: work, cliFile: link, env: { TSBUILD_DEBUG: 'replay' } });
  assert.equal(viaLink.code, 0, viaLink.stderr);
  assert.ok(viaLink.stderr.includes(REPLAYED), viaLink.stderr);
  // `auto` progress was recorded as plain text (stderr was a pipe); on a terminal the build runs.
  await tsbuild(['build', '-t', 'app', ctx]);
  assert.equal((await tsbuild(['build', '-t', 'app', ctx])).replayed, true);
  const cmd = `TSBUILD_DEBUG=replay ${cliPath} --root ${root} build -t app ${ctx}`;
  const onTty = await exec('script', ['-qec', cmd, '/dev/null'], { cwd: work });
  assert.doesNotMatch(onTty.stdout, /replayed/);
  assert.match(onTty.stdout, /exporting to image/);
});
