import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { canonicalJson, type Digest } from '../../common/index.js';
import { entryLine } from '../../context/hash.js';
import { hashSelection, selectSources, type SourceEntry } from '../../context/index.js';
import { writeTree } from '../helpers/files.js';
import { tempDir } from '../helpers/temp.js';

// The selection digest's line for an entry is written by hand (context/hash.ts entryLine):
// it must be the bytes canonicalJson writes for the record it stands for, or every COPY's
// cache key would change. Random entries of every type, with paths that JSON escapes.

const TYPES = ['file', 'dir', 'symlink', 'char', 'block', 'fifo'] as const;
const NAMES = ['a', 'b c', 'q"uote', 'back\\slash', 'tab\there', 'nl\nx', 'é', '😀', '\u0001', '\u2028', ''];

function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

test('entryLine writes what canonicalJson writes for an entry, for 20,000 random entries', () => {
  const r = random(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  for (let i = 0; i < 20_000; i++) {
    const type = pick(TYPES);
    const subPath = Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(NAMES)).join('/');
    const e = {
      subPath,
      relPath: subPath,
      absPath: `/ctx/${subPath}`,
      type,
      mode: Math.floor(r() * 0o7777),
      uid: Math.floor(r() * 70000),
      gid: Math.floor(r() * 70000),
      size: type === 'file' ? Math.floor(r() * 2 ** 40) : 0,
      mtimeMs: 0,
      ino: 1,
      dev: 1,
      nlink: 1,
      rdev: Math.floor(r() * 2 ** 20),
      ...(type === 'symlink' ? { linkTarget: pick(NAMES) + '/' + pick(NAMES) } : {}),
    } as SourceEntry;
    const digest = type === 'file' ? (`sha256:${i.toString(16).padStart(64, '0')}` as Digest) : undefined;
    const mode = e.mode;
    const record = {
      p: e.subPath,
      t: e.type,
      m: mode,
      u: e.uid,
      g: e.gid,
      s: e.type === 'file' ? e.size : undefined,
      l: e.linkTarget,
      r: e.type === 'char' || e.type === 'block' ? e.rdev : undefined,
      d: e.type === 'file' ? digest : undefined,
    };
    assert.equal(entryLine(e, mode, e.uid, e.gid, digest), canonicalJson(record), JSON.stringify(e));
  }
});

test('hashSelection is the digest of every entry\'s canonicalJson record, a line each (the first way it was written)', async () => {
  const root = await tempDir('tsbuild-hash-lines-');
  await writeTree(root, { 'a.txt': 'one', 'd/b "q".txt': 'two', 'd/é/c.txt': 'three', 'big.bin': Buffer.alloc(3 << 20, 7) });
  await symlink('a.txt', join(root, 'link'));
  // More lines than one piece of the hash holds (64 Ki characters).
  await writeTree(root, Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`many/file-with-a-longer-name-${i}.txt`, String(i)])));
  const sel = await selectSources(root, ['.', 'd'], { what: 'test' });
  const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  let text = '';
  for (const s of sel.sources) {
    text += canonicalJson({ source: s.path, parents: s.parentsPath }) + '\n';
    for (const e of s.entries) {
      const record = {
        p: e.subPath, t: e.type, m: e.mode, u: e.uid, g: e.gid,
        s: e.type === 'file' ? e.size : undefined,
        l: e.linkTarget,
        r: e.type === 'char' || e.type === 'block' ? e.rdev : undefined,
        d: e.type === 'file' ? sha(await readFile(e.absPath)) : undefined,
      };
      text += canonicalJson(record) + '\n';
    }
  }
  assert.ok(text.length > 2 * 65536, `${text.length} characters of lines`);
  assert.equal(await hashSelection(sel), sha(text));
});
