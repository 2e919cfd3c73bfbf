import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { lstat, mkdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../common/index.js';
import { extractTar } from '../../store/layers.js';
import { startUnpack } from '../../store/extract-thread.js';
import { tempDir } from '../helpers/temp.js';
import { makeTar, snapshot, type FixtureEntry } from './tar-fixture.js';

/**
 * The hostile-layer corpus (issue 7, promise 3): each row is a hand-made tar; the sandbox
 * holds the extraction target and a sentinel tree beside it. Every row asserts that nothing
 * outside the target changed, then what happened inside: rejected, or confined.
 */

interface Case {
  name: string;
  entries: (sentinel: string) => FixtureEntry[];
  /** 'rejected': extraction throws hostile-layer; else a check of the target tree. */
  want: 'rejected' | ((target: string, sentinel: string) => Promise<void>);
}

const isRoot = process.getuid?.() === 0;

const cases: Case[] = [
  { name: '../ name climbing out is rejected', entries: () => [{ name: '../escape.txt', content: 'x' }], want: 'rejected' },
  { name: 'a/../../ name climbing out is rejected', entries: () => [{ name: 'a/../../escape.txt', content: 'x' }], want: 'rejected' },
  { name: 'PAX path climbing out is rejected', entries: () => [{ name: 'innocent', content: 'x', pax: { path: '../pax-escape' } }], want: 'rejected' },
  {
    name: 'absolute name is confined under the target',
    entries: (s) => [{ name: join(s, 'file'), content: 'overwritten' }],
    want: async (t, s) => assert.equal(await readFile(join(t, s, 'file'), 'utf8'), 'overwritten'),
  },
  {
    name: 'file through a symlink pointing outside (relative) is rejected',
    entries: () => [{ name: 'link', type: 'symlink', linkname: '../../sentinel' }, { name: 'link/pwned', content: 'x' }],
    want: 'rejected',
  },
  {
    name: 'file through a symlink pointing outside (absolute) is rejected',
    entries: (s) => [{ name: 'link', type: 'symlink', linkname: s }, { name: 'link/file', content: 'x' }],
    want: 'rejected',
  },
  {
    name: 'file through a symlink pointing inside is rejected too (links are never followed)',
    entries: () => [{ name: 'd/', type: 'directory' }, { name: 'l', type: 'symlink', linkname: 'd' }, { name: 'l/f', content: 'x' }],
    want: 'rejected',
  },
  {
    name: 'self-referencing symlink chain is rejected',
    entries: () => [{ name: 'a', type: 'symlink', linkname: '.' }, { name: 'a/a/a/file', content: 'x' }],
    want: 'rejected',
  },
  {
    name: 'a file over a symlink replaces the link, not its target',
    entries: (s) => [{ name: 'evil', type: 'symlink', linkname: join(s, 'file') }, { name: 'evil', content: 'mine' }],
    want: async (t) => {
      assert.ok((await lstat(join(t, 'evil'))).isFile());
      assert.equal(await readFile(join(t, 'evil'), 'utf8'), 'mine');
    },
  },
  {
    name: 'a directory over a symlink replaces the link',
    entries: (s) => [{ name: 'evil', type: 'symlink', linkname: s }, { name: 'evil/', type: 'directory' }, { name: 'evil/x', content: 'in' }],
    want: async (t) => assert.equal(await readFile(join(t, 'evil', 'x'), 'utf8'), 'in'),
  },
  { name: 'hardlink to ../ outside is rejected', entries: () => [{ name: 'h', type: 'link', linkname: '../sentinel/file' }], want: 'rejected' },
  {
    name: 'hardlink to an absolute outside path is confined, and refused as not extracted',
    entries: (s) => [{ name: 'h', type: 'link', linkname: join(s, 'file') }],
    want: 'rejected',
  },
  {
    name: 'hardlink to a file not yet extracted is rejected',
    entries: () => [{ name: 'h', type: 'link', linkname: 'later' }, { name: 'later', content: 'x' }],
    want: 'rejected',
  },
  {
    name: 'hardlink through a symlinked parent is rejected',
    entries: () => [{ name: 'l', type: 'symlink', linkname: '../../sentinel' }, { name: 'h', type: 'link', linkname: 'l/file' }],
    want: 'rejected',
  },
  {
    name: 'hardlink to a symlink links the symlink itself',
    entries: (s) => [{ name: 's', type: 'symlink', linkname: join(s, 'file') }, { name: 'h', type: 'link', linkname: 's' }],
    want: async (t, s) => assert.equal(await readlink(join(t, 'h')), join(s, 'file')),
  },
  { name: 'whiteout naming .. is rejected', entries: () => [{ name: 'a/.wh...', content: '' }], want: 'rejected' },
  { name: 'whiteout naming . is rejected', entries: () => [{ name: '.wh..', content: '' }], want: 'rejected' },
  {
    name: 'whiteout through a symlink is rejected',
    entries: () => [{ name: 'l', type: 'symlink', linkname: '../../sentinel' }, { name: 'l/.wh.file', content: '' }],
    want: 'rejected',
  },
  {
    name: 'opaque marker through a symlink is rejected',
    entries: () => [{ name: 'l', type: 'symlink', linkname: '../../sentinel' }, { name: 'l/.wh..wh..opq', content: '' }],
    want: 'rejected',
  },
  {
    name: 'duplicate entries: the last one wins',
    entries: () => [{ name: 'f', content: 'one' }, { name: 'f', content: 'two', mode: 0o600 }],
    want: async (t) => {
      assert.equal(await readFile(join(t, 'f'), 'utf8'), 'two');
      assert.equal((await lstat(join(t, 'f'))).mode & 0o7777, 0o600);
    },
  },
  {
    name: 'a file replaced by a directory',
    entries: () => [{ name: 'x', content: 'file' }, { name: 'x/', type: 'directory' }, { name: 'x/y', content: 'y' }],
    want: async (t) => assert.equal(await readFile(join(t, 'x', 'y'), 'utf8'), 'y'),
  },
  {
    name: 'a directory replaced by a file',
    entries: () => [{ name: 'd/', type: 'directory' }, { name: 'd/a', content: 'a' }, { name: 'd', content: 'now a file' }],
    want: async (t) => assert.equal(await readFile(join(t, 'd'), 'utf8'), 'now a file'),
  },
  {
    name: 'device nodes are created inside only (as root) or skipped',
    entries: () => [{ name: 'dev/', type: 'directory' }, { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }],
    want: async (t) => {
      if (isRoot) assert.ok((await lstat(join(t, 'dev', 'null'))).isCharacterDevice());
      else await assert.rejects(lstat(join(t, 'dev', 'null')));
    },
  },
  {
    name: 'setuid bits are kept inside the layer',
    entries: () => [{ name: 'bin/', type: 'directory' }, { name: 'bin/su', content: '#!/bin/sh\n', mode: 0o4755 }],
    want: async (t) => assert.equal((await lstat(join(t, 'bin', 'su'))).mode & 0o7777, 0o4755),
  },
  {
    name: 'overlay-steering trusted.overlay.* xattrs from the archive are dropped',
    entries: () => [{ name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } }],
    want: async (t) => {
      const { execFileSync } = await import('node:child_process');
      const out = execFileSync('getfattr', ['-h', '-d', '-m', '-', join(t, 'd')], { encoding: 'utf8' });
      assert.doesNotMatch(out, /overlay/);
    },
  },
];

/** A target dir to extract into, beside a sentinel dir a hostile layer must not reach; and a snapshot of both. */
async function hostileBox(prefix: string) {
  const box = await tempDir(prefix);
  const target = join(box, 'extract', 'root');
  const sentinel = join(box, 'sentinel');
  await mkdir(target, { recursive: true });
  await mkdir(sentinel);
  await writeFile(join(sentinel, 'file'), 'precious');
  await writeFile(join(box, 'escape.txt.keep'), 'here');
  return { box, target, sentinel, before: await snapshot(box, join(box, 'extract')) };
}

for (const c of cases) {
  test(`hostile layer: ${c.name}`, async () => {
    const { box, target, sentinel, before } = await hostileBox('tsbuild-hostile-');
    const tar = await makeTar(c.entries(sentinel));
    const result = extractTar(Readable.from([tar]), target, { what: `test layer` });
    if (c.want === 'rejected') {
      await assert.rejects(result, (e: unknown) => e instanceof UserError && e.code === 'hostile-layer');
    } else {
      await result;
      await c.want(target, sentinel);
    }
    assert.deepEqual(await snapshot(box, join(box, 'extract')), before, 'nothing outside the target changed');
  });
}

// The same corpus through a worker thread (store/extract-thread.ts): a 5 MiB file first makes
// the tar big enough for one, and the tar is written to the sink in small pieces, as a COPY
// step writes its layer.
const FILLER: FixtureEntry = { name: 'filler-for-the-worker', content: Buffer.alloc(5 * 1024 * 1024, 7) };

for (const c of cases) {
  test(`hostile layer in the worker thread: ${c.name}`, async () => {
    const { box, target, sentinel, before } = await hostileBox('tsbuild-hostile-w-');
    const tar = await makeTar([FILLER, ...c.entries(sentinel)]);
    const x = startUnpack(target, 'test layer');
    for (let at = 0; at < tar.length; at += 10_000) {
      if (!x.sink.write(tar.subarray(at, at + 10_000))) await new Promise((r) => x.sink.once('drain', r));
    }
    x.sink.end();
    if (c.want === 'rejected') {
      await assert.rejects(x.done, (e: unknown) => e instanceof UserError && e.code === 'hostile-layer' && e.message.startsWith('test layer: '));
    } else {
      await x.done;
      assert.equal((await readFile(join(target, FILLER.name))).length, 5 * 1024 * 1024);
      await c.want(target, sentinel);
    }
    assert.deepEqual(await snapshot(box, join(box, 'extract')), before, 'nothing outside the target changed');
  });
}
