import assert from 'node:assert/strict';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { hexOf } from '../../common/index.js';
import { cacheKeyOf, type KeyParts } from '../../planner/index.js';
import { openStore, type BuildInputs, type CacheRecord } from '../../store/index.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';
import { tempDir } from '../helpers/temp.js';

// A run of config steps (LABEL, ENV, USER, CMD …) is cached as one record at its last
// step's key, holding every step's history entry (executor/config-run.ts).

// Every build runs: the front door's replay of a fully cached one would read no record.
const noReplay = { TSBUILD_REPLAY: 'off' };

const dockerfile = (second = 'LABEL second=2') => `FROM scratch
LABEL first=1
ENV X=1
${second}
COPY a /a
USER 1000
CMD ["/a"]
`;

async function project(tree: Record<string, string> = {}) {
  const work = await tempDir();
  const ctx = join(work, 'ctx');
  await writeTree(ctx, { Dockerfile: dockerfile(), a: 'a\n', ...tree });
  const root = join(work, 'root');
  const build = async (...args: string[]) => {
    const r = await runCli(['build', '--progress', 'plain', '--iidfile', join(work, 'iid'), ...args, '-t', 'runs', ctx], { root, env: noReplay });
    assert.equal(r.code, 0, r.stderr);
    return { id: (await readFile(join(work, 'iid'), 'utf8')).trim(), stderr: r.stderr };
  };
  return { ctx, root, build };
}

async function records(root: string): Promise<CacheRecord[]> {
  const dir = join(root, 'cache', 'records');
  return Promise.all((await readdir(dir)).map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8')) as CacheRecord));
}

const cachedCount = (stderr: string) => (stderr.match(/^#\d+ CACHED$/gm) ?? []).length;

test('a run of config steps is one record at its last key, holding each step\'s history; a rebuild takes it whole: the same image id', async () => {
  const { root, build } = await project();
  const first = await build();
  const recs = await records(root);
  assert.equal(recs.length, 3, 'one record per run of config steps and one for the COPY, not one per step');
  assert.deepEqual(
    recs.filter((r) => r.batch).map((r) => r.batch!.map((e) => e.history.created_by)).sort(),
    [['LABEL first=1', 'ENV X=1', 'LABEL second=2'], ['USER 1000', 'CMD ["/a"]']],
  );
  for (const r of recs.filter((x) => x.batch)) assert.deepEqual(r.history, r.batch!.at(-1)!.history, 'the record is its last step\'s too');

  const again = await build();
  assert.equal(again.id, first.id, 'history times come from the records');
  assert.equal(cachedCount(again.stderr), 1, again.stderr);
  assert.doesNotMatch(again.stderr, /cache miss/);
  assert.equal((await records(root)).length, 3, 'a cached rebuild writes no record');
});

test('--no-cache runs the config steps again and writes their run\'s record anew, which the next build takes', async () => {
  const { root, build } = await project();
  await build();
  const fresh = await build('--no-cache');
  assert.equal((await records(root)).length, 3);
  assert.equal((await build()).id, fresh.id);
});

test('a store with one record per config step (as earlier versions wrote them) still gives hits, and then holds the run\'s record', async () => {
  const { root, build } = await project();
  const first = await build();
  await writePerStepRecords(root);
  assert.equal((await records(root)).filter((r) => r.batch).length, 0);

  const again = await build();
  assert.equal(again.id, first.id, 'each step took its own record');
  assert.equal(cachedCount(again.stderr), 1, again.stderr);
  const batches = (await records(root)).filter((r) => r.batch);
  assert.deepEqual(batches.map((r) => r.batch!.length).sort(), [2, 3], 'each run\'s per-step records became one');
  assert.equal((await build()).id, first.id);
});

test('editing the last LABEL of a run: the new label and history, the COPY after it runs again; going back gives the first image again', async () => {
  const { ctx, root, build } = await project();
  const first = await build();
  await writeFile(join(ctx, 'Dockerfile'), dockerfile('LABEL second=two'));
  const edited = await build();
  assert.notEqual(edited.id, first.id);
  assert.equal(cachedCount(edited.stderr), 0, 'the COPY is below the edit');
  const image = (await (await openStore(root)).resolveImage('runs'))!;
  assert.deepEqual(image.config.config?.Labels, { first: '1', second: 'two' });
  assert.deepEqual(
    image.config.history!.map((h) => h.created_by),
    ['LABEL first=1', 'ENV X=1', 'LABEL second=two', 'COPY a /a # buildkit', 'USER 1000', 'CMD ["/a"]'],
  );
  assert.equal((await build()).id, edited.id, 'the edited run is cached as a run too');

  await writeFile(join(ctx, 'Dockerfile'), dockerfile());
  assert.equal((await build()).id, first.id, 'the first run\'s record was left as it was');
});

test('a config step edited before a RUN invalidates the RUN, and the miss names it; one edited after it does not', async () => {
  const { work, root } = await busyboxWork();
  const ctx = join(work, 'ctx');
  const write = (x: string, c: string) =>
    writeTree(ctx, { Dockerfile: `FROM busybox\nLABEL a=1\nENV X=${x}\nLABEL b=2\nRUN echo $X > /x\nLABEL c=${c}\nCMD ["cat", "/x"]\n` });
  const build = async () => {
    const r = await runCli(['build', '--progress', 'plain', '-t', 'env-run', ctx], { root, env: noReplay });
    assert.equal(r.code, 0, r.stderr);
    return r.stderr;
  };
  await write('1', '3');
  await build();
  await write('2', '3');
  const envEdited = await build();
  assert.equal(cachedCount(envEdited), 0, envEdited);
  assert.match(envEdited, /#\d+ cache miss: ENV X=2: the instruction changed/);
  const ran = await runCli(['run', '--rm', 'env-run'], { root });
  assert.equal(ran.stdout, '2\n', ran.stderr);

  await write('2', '4');
  const labelEdited = await build();
  assert.equal(cachedCount(labelEdited), 1, labelEdited);
  assert.doesNotMatch(labelEdited, /cache miss/);
});

/** Replace each batched record by one record per step, as the per-step executor wrote them. */
async function writePerStepRecords(root: string): Promise<void> {
  const builds = join(root, 'cache', 'builds');
  const [name] = await readdir(builds);
  const inputs = JSON.parse(await readFile(join(builds, name), 'utf8')) as BuildInputs;
  const partsByKey = new Map(inputs.steps.map((s) => [cacheKeyOf(s.keyParts as KeyParts), s.keyParts]));
  const store = await openStore(root);
  for (const rec of await records(root)) {
    if (!rec.batch) continue;
    await rm(join(root, 'cache', 'records', `${hexOf(rec.key)}.json`));
    for (const e of rec.batch) await store.cacheRecords.put({ key: e.key, history: e.history, keyParts: partsByKey.get(e.key)! });
  }
}
