import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { projectRoot, UserError } from '../../common/index.js';
import { expandWord, expandWords } from '../../parser/index.js';

// BuildKit's variable-substitution tables (../shared/conformance/buildkit-shell, see its README).
const base = resolve(projectRoot, '..', 'shared', 'conformance', 'buildkit-shell');

const envVarEnv = new Map([['PWD', '/home'], ['SHELL', 'bash'], ['KOREAN', '한국어'], ['NULL', '']]);
readFileSync(resolve(base, 'envVarTest'), 'utf8').split('\n').forEach((line, index) => {
  if (line.startsWith('#') || line.trim() === '') return;
  const [platform, source, expected] = line.trim().split('|').map((s) => s.trim());
  if (platform === 'W') return; // Windows-only rows
  test(`envVarTest line ${index + 1}: ${source} → ${expected || '(empty)'}`, () => {
    if (expected === 'error') {
      assert.throws(() => expandWord(source, envVarEnv), (e: unknown) => e instanceof UserError && e.code === 'bad-substitution');
    } else {
      assert.equal(expandWord(source, envVarEnv).value, expected);
    }
  });
});

const wordsEnv = new Map<string, string>();
readFileSync(resolve(base, 'wordsTest'), 'utf8').split('\n').forEach((line, index) => {
  if (line.startsWith('#') || line === '') return;
  if (line.startsWith('ENV ')) {
    const kv = line.slice(3).replace(/^ +/, '');
    const eq = kv.indexOf('=');
    wordsEnv.set(kv.slice(0, eq), kv.slice(eq + 1));
    return;
  }
  const env = new Map(wordsEnv);
  const [input, output] = line.split('|');
  const source = input.trim();
  const expected = output.replace(/^ +/, '').split(',');
  test(`wordsTest line ${index + 1}: ${source} → ${JSON.stringify(expected)}`, () => {
    if (expected.length === 1 && expected[0] === 'error') {
      assert.throws(() => expandWords(source, env), UserError);
    } else {
      assert.deepEqual(expandWords(source, env).values, expected);
    }
  });
});
