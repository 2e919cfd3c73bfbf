import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sortEntries, type LayerEntry } from '../../executor/layer-writer.js';
import { xorshift32 } from '../helpers/xorshift.js';

// Layers list entries in the byte order of their UTF-8 paths, `/` sorting before every
// other byte (as Go's tar writers in BuildKit do). sortEntries compares strings when it can;
// the reference here always compares bytes.
function reference(entries: LayerEntry[]): string[] {
  const key = (e: LayerEntry) => Buffer.from((e.isOpaqueMarker ? e.path.slice(0, e.path.lastIndexOf('/') + 1) : e.path).replace(/\//g, '\0'));
  return [...entries].sort((a, b) => Buffer.compare(key(a), key(b))).map((e) => e.path);
}

function entry(path: string): LayerEntry {
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeMs: 0, size: 0 };
}

test('layer entries sort in UTF-8 byte order, ASCII or not', () => {
  const alphabet = ['a', 'b', 'Z', '0', '-', '.', '/', ' ', '\u00e9', '\u4e2d', '\ue000', '\uffee', '\u{1f600}', '\u{10400}'];
  const next = xorshift32(0x9e3779b9);
  for (const ascii of [true, false]) {
    const letters = ascii ? alphabet.slice(0, 8) : alphabet;
    const paths = new Set<string>();
    while (paths.size < 400) {
      let p = '';
      const len = 1 + (next() % 8);
      for (let i = 0; i < len; i++) p += letters[next() % letters.length];
      p = p.replace(/\/+/g, '/').replace(/^\/|\/$/g, '');
      if (p) paths.add(p);
    }
    const entries = [...paths].map(entry);
    entries.push({ ...entry('a/.wh..wh..opq'), isOpaqueMarker: true });
    assert.deepEqual(sortEntries(entries).map((e) => e.path), reference(entries), ascii ? 'ASCII paths' : 'non-ASCII paths');
  }
});
