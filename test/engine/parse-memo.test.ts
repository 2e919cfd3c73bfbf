/**
 * engine/dockerfile.ts keeps a parsed Dockerfile as a memo in the store, so that a rebuild of
 * the same text loads no parser. The memo writes each instruction's ranges once (they are its
 * raw instruction's objects), as six numbers each; read back, the result is what a fresh
 * parse gives, ranges and all (ONBUILD's nested one too), and the ranges are shared again.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDockerfile } from '../../engine/dockerfile.js';
import { openStore } from '../../store/index.js';
import { tempDir } from '../helpers/temp.js';

const TEXT = [
  '# syntax=docker/dockerfile:1',
  'FROM busybox AS base',
  'LABEL a="b c" \\',
  '      d=e',
  'ONBUILD RUN echo later',
  'RUN <<EOF',
  'echo here',
  'EOF',
  'COPY --chmod=644 a b /dst/',
  'FROM base',
  'CMD ["/bin/sh"]',
  '',
].join('\n');

test('a parsed Dockerfile read back from its memo is the fresh parse, with each range written once', async () => {
  const root = await tempDir();
  const store = await openStore(root);
  const fresh = await parseDockerfile(store, TEXT, 'Dockerfile');
  const dir = join(root, 'cache', 'memo', 'dockerfile');
  const [name] = readdirSync(dir);
  const written = readFileSync(join(dir, name), 'utf8');
  assert.ok(written.length < JSON.stringify(fresh).length * 0.9, `the memo (${written.length} bytes) does not repeat the instructions' ranges`);

  const again = await parseDockerfile(store, TEXT, 'Dockerfile');
  assert.notEqual(again, fresh, 'read from the memo, not this process');
  assert.deepEqual(again, fresh);
  // Key order too: `--call` and the checks read the raw tree as the parser made it.
  assert.equal(JSON.stringify(again.raw), JSON.stringify(fresh.raw));
  assert.match(written, /"range":\[3,1,50,4,/, 'a range of the Dockerfile is written as its numbers');
  const label = again.instructions[1].range;
  assert.deepEqual([label.file, label.start, label.end.line], ['Dockerfile', { line: 3, column: 1, offset: 50 }, 4]);
  assert.equal(TEXT.slice(label.start.offset, label.end.offset), 'LABEL a="b c" \\\n      d=e');
  again.instructions.forEach((ins, i) => {
    assert.equal(ins.range, again.raw.instructions[i].range, `instruction ${i}: its range is its raw instruction's`);
    assert.equal(ins.keywordRange, again.raw.instructions[i].keywordRange);
  });
});
