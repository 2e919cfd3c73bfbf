import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { projectRoot, UserErrors } from '../../common/index.js';
import { dumpBuildkit, parseRaw } from '../../parser/index.js';

// BuildKit's own parser test data (../shared/conformance/buildkit-parser, see its README).
const base = resolve(projectRoot, '..', 'shared', 'conformance', 'buildkit-parser');

for (const name of readdirSync(resolve(base, 'testfiles')).sort()) {
  test(`BuildKit testfile ${name}: dump equals result byte for byte`, () => {
    const dockerfile = readFileSync(resolve(base, 'testfiles', name, 'Dockerfile'));
    const want = readFileSync(resolve(base, 'testfiles', name, 'result'), 'utf8');
    assert.equal(dumpBuildkit(parseRaw(dockerfile, 'Dockerfile')), want);
  });
}

const negativeCodes: Record<string, string> = {
  empty_dockerfile: 'no-instructions',
  only_comments: 'no-instructions',
  env_no_value: 'env-needs-value',
  'shykes-nested-json': 'json-not-strings',
};

for (const name of readdirSync(resolve(base, 'testfiles-negative')).sort()) {
  test(`BuildKit negative testfile ${name} is rejected`, () => {
    const dockerfile = readFileSync(resolve(base, 'testfiles-negative', name, 'Dockerfile'));
    assert.throws(
      () => parseRaw(dockerfile, 'Dockerfile'),
      (e: unknown) => {
        assert.ok(e instanceof UserErrors);
        if (negativeCodes[name]) assert.equal(e.errors[0].code, negativeCodes[name]);
        for (const err of e.errors) assert.equal(typeof err.where, 'object');
        return true;
      },
    );
  });
}

test('testfile-line: instructions span [5,5], [11,12], [17,31] (blank and comment lines inside count)', () => {
  const raw = parseRaw(readFileSync(resolve(base, 'testfile-line', 'Dockerfile')), 'Dockerfile');
  assert.deepEqual(
    raw.instructions.map((i) => [i.line, i.endLine]),
    [[5, 5], [11, 12], [17, 31]],
  );
  assert.equal(raw.instructions[0].range.start.line, 5);
  assert.equal(raw.instructions[2].range.end.line, 31);
});

test('an empty continuation line warns once per instruction, a comment line does not', () => {
  const raw = parseRaw('FROM a\nRUN something \\\n\n    following \\\n# note\n    more\n');
  assert.deepEqual(raw.warnings, [{ line: 6, message: 'Empty continuation line found in: RUN something     following     more' }]);
});

test('a physical line of 65536 bytes or more is refused like BuildKit\'s scanner', () => {
  const ok = parseRaw(`FROM a\nRUN ${'x'.repeat(65535 - 5)}\n`);
  assert.equal(ok.instructions.length, 2);
  assert.throws(
    () => parseRaw(`FROM a\nRUN ${'x'.repeat(70000)}\n`),
    (e: unknown) => e instanceof UserErrors && e.errors[0].code === 'line-too-long',
  );
});
