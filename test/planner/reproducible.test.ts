import assert from 'node:assert/strict';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { writeTree } from '../helpers/files.js';
import { tempDir } from '../helpers/temp.js';

const tree = {
  Dockerfile: 'FROM scratch\nCOPY app/ /app/\nWORKDIR /app\nCMD ["/app/run"]\n',
  'app/run': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  'app/data/x.txt': 'x\n',
};

async function buildIn(dir: string, mtime: Date, env: NodeJS.ProcessEnv): Promise<string> {
  await writeTree(dir, tree);
  for (const f of ['Dockerfile', 'app/run', 'app/data/x.txt', 'app/data', 'app']) await utimes(join(dir, f), mtime, mtime);
  const r = await runCli(['build', '-q', '-t', 'repro', dir], { root: join(dir, '..', `${dir.split('/').pop()}-root`), env });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

test('with SOURCE_DATE_EPOCH, two clones with different paths and mtimes give the same image id', async () => {
  const work = await tempDir();
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  const a = await buildIn(join(work, 'clone-a'), new Date('2025-01-01T00:00:00Z'), env);
  const b = await buildIn(join(work, 'clone-b'), new Date('2026-06-01T12:34:56Z'), env);
  assert.equal(a, b);
});

test('without SOURCE_DATE_EPOCH the files\' mtimes are kept in the layer (so layers differ)', async () => {
  const work = await tempDir();
  await buildIn(join(work, 'clone-a'), new Date('2025-01-01T00:00:00Z'), {});
  await buildIn(join(work, 'clone-b'), new Date('2026-06-01T12:34:56Z'), {});
  const layers = async (name: string) => {
    const r = await runCli(['inspect', 'repro'], { root: join(work, `${name}-root`) });
    return (JSON.parse(r.stdout) as { RootFS: { Layers: string[] } }[])[0].RootFS.Layers;
  };
  assert.notDeepEqual(await layers('clone-a'), await layers('clone-b'));
});
