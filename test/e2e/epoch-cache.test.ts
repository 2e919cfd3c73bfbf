import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';
import { readLayoutImage, saveAndUnpack } from '../helpers/unpack.js';

// A build under SOURCE_DATE_EPOCH after one without it must give the image a fresh build under
// it gives (BuildKit's patchImageConfig, exporter/containerimage/writer.go, clamps the history
// times after the base's to the epoch at export; tsbuild writes them so and keys its records
// by the epoch, executor/epoch-keys.ts). A build without it then still reuses its own records.
let work: string;
let root: string;

before(async () => {
  ({ work, root } = await busyboxWork('tsbuild-epoch-cache-'));
});

const DOCKERFILE = `FROM busybox AS base
RUN echo made > /made && mkdir /d && touch /d/f
ENV STAGE=base
FROM base
COPY a /a
RUN cat /a /made > /both
COPY --from=base /made /copied
LABEL x=y
`;

async function build(ctx: string, name: string, args: string[], sde?: string) {
  const env = { ...process.env, SOURCE_DATE_EPOCH: sde ?? '' };
  const r = await runCli(['build', '--progress', 'plain', '-t', name, ...args, ctx], { root, env });
  assert.equal(r.code, 0, r.stderr);
  const i = await runCli(['inspect', name], { root });
  assert.equal(i.code, 0, i.stderr);
  return { id: (JSON.parse(i.stdout) as { Id: string }[])[0].Id, stderr: r.stderr };
}

test('SOURCE_DATE_EPOCH after a build without it: the image of a fresh build under it, not the cached one', async () => {
  const ctx = join(work, 'ctx');
  await writeTree(ctx, { Dockerfile: DOCKERFILE, a: 'aaa\n' });
  const SDE = '1700000000';
  const plain = await build(ctx, 'app', []);
  const after = await build(ctx, 'app', [], SDE);
  assert.notEqual(after.id, plain.id, 'the epoch changes the image');
  assert.match(after.stderr, /cache miss: SOURCE_DATE_EPOCH changed/);
  const fresh = await build(ctx, 'fresh', ['--no-cache'], SDE);
  assert.equal(after.id, fresh.id, 'same image as a build that reused nothing');

  // Now cached under the epoch: the same image again, every step a hit.
  const again = await build(ctx, 'app', [], SDE);
  assert.equal(again.id, fresh.id);
  assert.doesNotMatch(again.stderr, /cache miss/);
  // And without it, the first build's records are still there: its image again.
  const back = await build(ctx, 'app', []);
  assert.equal(back.id, plain.id);

  const { layout } = await saveAndUnpack(root, 'fresh', join(work, 'unpack-fresh'));
  const { config } = await readLayoutImage(layout);
  const base = (await saveAndUnpack(root, 'busybox', join(work, 'unpack-busybox')).then((u) => readLayoutImage(u.layout))).config;
  const baseCount = base.history?.length ?? 0;
  assert.deepEqual(config.history?.slice(0, baseCount), base.history, "the base image's history keeps its times");
  const own = (config.history ?? []).slice(baseCount).map((h) => h.created);
  // RUN, ENV of the base stage; COPY, RUN, COPY, LABEL of the last.
  assert.deepEqual(own, Array(6).fill('2023-11-14T22:13:20.000Z'));
});
