import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserErrors } from '../../common/index.js';
import { dumpBuildkit, parseRaw, rawToJson } from '../../parser/index.js';

test('parse --json: the documented contract (name as written, flags, raw args, heredocs, column)', () => {
  const raw = parseRaw('# syntax=docker/dockerfile:1\nFROM alpine\n  run --mount=type=cache,target=/x <<EOF\napt-get update\nEOF\n');
  assert.deepEqual(rawToJson(raw), {
    directives: { syntax: 'docker/dockerfile:1', escape: '\\' },
    instructions: [
      { name: 'FROM', line: 2, endLine: 2, column: 1, flags: [], args: ['alpine'], json: false, heredocs: [], onbuild: null },
      {
        name: 'run', line: 3, endLine: 5, column: 3, flags: ['--mount=type=cache,target=/x'], args: ['<<EOF'], json: false,
        heredocs: [{ name: 'EOF', content: 'apt-get update\n', expand: true, chomp: false, fd: 0 }], onbuild: null,
      },
    ],
    warnings: [],
  });
});

test('ONBUILD has no args of its own and nests the trigger', () => {
  const json = rawToJson(parseRaw('FROM a\nONBUILD COPY --from=x . /\n')) as { instructions: Record<string, unknown>[] };
  const ob = json.instructions[1];
  assert.deepEqual(ob.args, []);
  assert.deepEqual((ob.onbuild as Record<string, unknown>).flags, ['--from=x']);
  assert.equal((ob.onbuild as Record<string, unknown>).name, 'COPY');
});

test('an unknown instruction parses with one empty argument (rejected later by the typed pass)', () => {
  const raw = parseRaw('FROM a\nFOO bar\n');
  assert.deepEqual(raw.instructions[1].args, ['']);
  assert.equal(dumpBuildkit(raw), '(from "a")\n(foo "")\n');
});

const heredocCases: { name: string; line: string; want: { name: string; expand: boolean; chomp: boolean; fd: number }[] }[] = [
  { name: 'plain', line: 'RUN <<EOF', want: [{ name: 'EOF', expand: true, chomp: false, fd: 0 }] },
  { name: 'chomp', line: 'RUN <<-EOF', want: [{ name: 'EOF', expand: true, chomp: true, fd: 0 }] },
  { name: 'single-quoted name does not expand', line: "RUN <<'EOF'", want: [{ name: 'EOF', expand: false, chomp: false, fd: 0 }] },
  { name: 'double-quoted name does not expand', line: 'RUN <<"EOF"', want: [{ name: 'EOF', expand: false, chomp: false, fd: 0 }] },
  { name: 'partly quoted name does not expand', line: "RUN <<eo'f'", want: [{ name: 'eof', expand: false, chomp: false, fd: 0 }] },
  { name: 'escaped quote in the name expands', line: "RUN <<eo\\'f", want: [{ name: "eo'f", expand: true, chomp: false, fd: 0 }] },
  { name: 'fd number', line: 'RUN 3<<EOF2', want: [{ name: 'EOF2', expand: true, chomp: false, fd: 3 }] },
  { name: 'two on one line', line: 'COPY <<FILE1 <<FILE2 /dest', want: [{ name: 'FILE1', expand: true, chomp: false, fd: 0 }, { name: 'FILE2', expand: true, chomp: false, fd: 0 }] },
  { name: 'quoted <<EOF word is not a heredoc', line: 'RUN echo "<<EOF"', want: [] },
  { name: 'JSON form is not scanned', line: 'RUN ["<<EOF"]', want: [] },
  { name: 'USER is not scanned', line: 'USER <<X', want: [] },
];

for (const c of heredocCases) {
  test(`heredoc: ${c.name}`, () => {
    const bodies = c.want.map((h) => `body\n${h.name}\n`).join('');
    const raw = parseRaw(`FROM a\n${c.line}\n${bodies}`);
    assert.deepEqual(raw.instructions[1].heredocs.map(({ content: _c, ...h }) => h), c.want);
  });
}

test('heredoc bodies keep tabs and CRLF as written; <<- matches a tab-indented terminator', () => {
  const raw = parseRaw('FROM a\r\nRUN <<-EOF\r\n\tx\r\n\tEOF\r\nRUN b\r\n');
  assert.equal(raw.instructions[1].heredocs[0].content, '\tx\r\n');
  assert.equal(raw.instructions[2].args[0], 'b');
  assert.equal(raw.instructions[2].line, 5);
});

test('directives: key case-insensitive, only at the top, BOM removed', () => {
  const raw = parseRaw('\ufeff# EScape=`\n# check=skip=all\nFROM a\n# escape=\\\n');
  assert.deepEqual(raw.directives, { escape: '`', check: 'skip=all' });
  assert.deepEqual(parseRaw('#!/bin/tsbuild\n# syntax=x/y // comment\nFROM a\n').directives, { escape: '\\', syntax: 'x/y // comment' });
});

test('all problems are reported at once, each with a range', () => {
  assert.throws(
    () => parseRaw('FROM a\nENV X\nCMD [1]\nRUN <<EOF\n'),
    (e: unknown) => {
      assert.ok(e instanceof UserErrors);
      assert.deepEqual(e.errors.map((x) => x.code), ['env-needs-value', 'json-not-strings', 'unterminated-heredoc']);
      assert.deepEqual(e.errors.map((x) => typeof x.where === 'object' && x.where.start.line), [2, 3, 4]);
      return true;
    },
  );
});

test('bytes are read as UTF-8; invalid bytes do not crash the parser', () => {
  const raw = parseRaw(new Uint8Array([...Buffer.from('FROM a\nRUN echo '), 0xff, 0xfe, 0x0a]));
  assert.equal(raw.instructions.length, 2);
  assert.equal(raw.warnings.length, 1);
});

test('each instruction keeps the comments above it, as BuildKit\'s PrevComment', () => {
  const raw = parseRaw('# syntax=docker/dockerfile:1\n# first\n\n# second\nFROM scratch\n# dropped\n#\n# kept\nLABEL a=1\nLABEL b=2\n');
  assert.deepEqual(raw.instructions.map((i) => i.comments), [['first', 'second'], ['kept'], []]);
});
