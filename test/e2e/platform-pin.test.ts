/**
 * Single-platform builds stay byte-identical as multi-platform support lands: a scratch build
 * under SOURCE_DATE_EPOCH has this manifest digest and image id, with and without an explicit
 * `--platform linux/amd64` (the host's), and stays a plain manifest in the store (no index).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { writeTree } from '../helpers/files.js';
import { tempDir } from '../helpers/temp.js';

const DOCKERFILE = 'FROM scratch\nENV A=1\nCOPY a.txt /a.txt\nCMD ["/a.txt"]\n';
// Pinned before multi-platform support: a change here changes every user's image digests.
const MANIFEST = 'sha256:17d908d3b7ca9b872ab4642c5c3f01a6656faa201d38ff6424253b3125c891f4';
const IMAGE_ID = 'sha256:4811795faf47782a0a5c3c7d61ab37a8d1327fa666498fd4653cf1b16588af21';

for (const flags of [[], ['--platform', 'linux/amd64']]) {
  test(`a scratch build ${flags.length ? 'with --platform linux/amd64' : 'by default'} keeps its pinned digests`, async () => {
    const work = await tempDir();
    const root = join(work, 'root');
    await writeTree(join(work, 'ctx'), { Dockerfile: DOCKERFILE, 'a.txt': 'a\n' });
    const r = await runCli(['build', '--progress', 'quiet', ...flags, '-t', 'pin', join(work, 'ctx')], { root, env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
    assert.equal(r.code, 0, r.stderr);
    const index = JSON.parse(await readFile(join(root, 'oci', 'index.json'), 'utf8')) as { manifests: { mediaType: string; digest: string; annotations: Record<string, string> }[] };
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0].mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(index.manifests[0].digest, MANIFEST);
    assert.equal(index.manifests[0].annotations['io.tsbuild.image.id'], IMAGE_ID);
  });
}
