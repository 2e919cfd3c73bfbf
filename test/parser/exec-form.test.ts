import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../common/index.js';
import { parseExecForm } from '../../parser/exec-form.js';
import { parseExecFormWithGrammar } from '../../parser/grammar.js';
import { xorshift32 } from '../helpers/xorshift.js';

// parseExecForm reads plain string arrays with JSON.parse and leaves everything else to
// the Chevrotain grammar: both must give the same answer for every input.

const conformance = resolve(projectRoot, '..', 'shared', 'conformance');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** The text after the keyword of every conformance line: exec forms and the rest. */
function conformanceForms(): string[] {
  const out: string[] = [];
  for (const f of files(conformance)) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const m = /^\s*[A-Za-z]+\s+(\S.*)$/.exec(line);
      if (m) out.push(m[1]);
    }
  }
  return out;
}

const handmade = [
  '[]', '[ ]', '["a"]', '[ "a" , "b" ]', '["a",]', '[,"a"]', '["a" "b"]', '["a"] x', '["a"]["b"]',
  '["a"]\t', '["a"]\r', '["a"]\u000b', '["a"]\f', '\t["a"]', '["a\tb"]', '["a\u0001"]', '["a\u007f"]',
  '["caf\u00e9", "\u{1f600}"]', '["a", 1]', '["a", null]', '["a", true]', '[["a"]]', '[{"a": "b"}]', '{"a": "b"}',
  '"a"', '[\'a\']', '[a]', '["a"', '"a"]', '["\ufeff"]', '\ufeff["a"]', '["a"]  ', '[ "a" ,\n "b" ]',
  'hello /', 'a b', '-la', '\u000b["a"]', '\f["a"]', '\u00a0["a"]', ' \n\r\t["a"]', '["a\\"b"]', '["\\ud800"]', '["\\u00e9"]', '["a\\/b"]', '["\\x41"]', '["a\\', '[' + '['.repeat(300) + ']'.repeat(301),
];

/** Deterministic random strings over JSON's punctuation and a few awkward characters. */
function randomForms(n: number): string[] {
  const alphabet = ['[', ']', '"', ',', ' ', 'a', 'b', '1', '\t', '\n', '{', '}', ':', 'null', '\\', '\u00e9', '\u0000', '"x"'];
  const next = xorshift32(0x2545f491);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = '[';
    const len = next() % 12;
    for (let j = 0; j < len; j++) s += alphabet[next() % alphabet.length];
    out.push(next() % 4 === 0 ? s : s + ']');
  }
  return out;
}

test('the JSON.parse shortcut and the grammar agree on every exec form', () => {
  const forms = [...conformanceForms(), ...handmade, ...randomForms(5000)];
  assert.ok(forms.length > 5100, `only ${forms.length} forms`);
  let shortcut = 0;
  for (const text of forms) {
    const expected = parseExecFormWithGrammar(text);
    assert.deepEqual(parseExecForm(text), expected, JSON.stringify(text));
    if (expected.kind === 'array' && !text.includes('\\')) shortcut++;
  }
  assert.ok(shortcut > 100, `the shortcut was taken only ${shortcut} times`);
});
