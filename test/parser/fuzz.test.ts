import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError, UserErrors } from '../../common/index.js';
import { expandInstruction, parseRaw, typeInstructions } from '../../parser/index.js';

// Seeded fuzzing of parseRaw + typeInstructions + expandInstruction: every input either parses
// or fails with UserErrors that all carry a source range; nothing else may escape.
// TSBUILD_FUZZ_SEED=<n> replays a run; TSBUILD_FUZZ_COUNT=<n> changes the number of inputs.
const seed = Number(process.env.TSBUILD_FUZZ_SEED ?? Date.now() % 2 ** 31);
const count = Number(process.env.TSBUILD_FUZZ_COUNT ?? 20000);

function mulberry32(a: number): () => number {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = mulberry32(seed);
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];

const KEYWORDS = ['FROM', 'RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'ENV', 'LABEL', 'ARG', 'COPY', 'ADD', 'WORKDIR', 'USER', 'EXPOSE',
  'VOLUME', 'STOPSIGNAL', 'HEALTHCHECK', 'ONBUILD', 'MAINTAINER', 'run', 'From', 'RUNN', 'FOO', ''];
const FLAGS = ['--from=build', '--chown=1:1', '--chmod=755', '--link', '--parents', '--exclude=*.md', '--checksum=sha256:x',
  '--keep-git-dir', '--mount=type=cache,target=/x', '--mount=type=bind', '--network=none', '--security=insecure',
  '--platform=$P', '--interval=5s', '--timeout=0', '--retries=3', '--retries=-1', '--required', '--', '--x="a b"', '--bad'];
const WORDS = ['a', 'b c', '"quoted word"', "'single'", '$V', '${V:-def}', '${V#*.}', '${V//a/b}', '${', '$', '\\', '`', '[', ']',
  '["a", "b"]', '["x", 1]', '[]', '<<EOF', '<<-EOF', '<<"Q"', '3<<EOF', 'AS', 'stage', 'NONE', 'CMD', 'k=v', 'k="v w"', '=x',
  '/path/to', '8080/tcp', '\u00a0', '\t', 'é', '☃', '\u0000', '\r', '\ufeff', '#', '\\\\', '{}', '"', "'"];
const SPECIAL = ['\u0000', '\r', '\n', '\\', '`', '"', "'", '$', '{', '}', '[', ']', '<<', '#', '\t', ' ', '\ufeff', '\ud800', '=', '--'];

function line(): string {
  const kw = pick(KEYWORDS);
  const parts = [kw];
  for (let i = int(3); i > 0; i--) parts.push(pick(FLAGS));
  for (let i = int(5); i > 0; i--) parts.push(pick(WORDS));
  let text = parts.join(pick([' ', ' ', '\t', '  ']));
  if (rnd() < 0.15) text += ' \\\n' + (rnd() < 0.3 ? '# comment\n' : '') + (rnd() < 0.2 ? '\n' : '') + '  ' + pick(WORDS);
  if (text.includes('<<') && rnd() < 0.8) text += `\n${pick(['body', '\tindented', '$V'])}\n${pick(['EOF', '\tEOF', 'Q', 'EO'])}`;
  return text;
}

function generate(): string {
  const lines: string[] = [];
  if (rnd() < 0.2) lines.push(pick(['# escape=`', '# escape=\\', '# syntax=x', '# check=skip=all', '# escape=x']));
  if (rnd() < 0.7) lines.push('FROM ' + pick(['alpine', 'scratch AS base', '$IMG']));
  for (let i = int(8); i >= 0; i--) lines.push(rnd() < 0.1 ? '# ' + pick(WORDS) : line());
  return lines.join(pick(['\n', '\n', '\r\n']));
}

function mutate(text: string): string {
  let s = text;
  for (let n = 1 + int(4); n > 0; n--) {
    const at = int(s.length + 1);
    switch (int(4)) {
      case 0: s = s.slice(0, at) + pick(SPECIAL) + s.slice(at); break;
      case 1: s = s.slice(0, at) + s.slice(at + 1 + int(5)); break;
      case 2: s = s.slice(0, at) + s.slice(int(s.length), int(s.length)) + s.slice(at); break;
      default: s = s.slice(0, at) + String.fromCharCode(int(0x3000)) + s.slice(at + 1);
    }
  }
  return s;
}

function toBytes(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  if (rnd() < 0.5 || bytes.length === 0) return bytes;
  const out = Buffer.from(bytes);
  for (let n = 1 + int(3); n > 0; n--) out[int(out.length)] = pick([0xff, 0xc3, 0x80, 0xfe, 0xed, 0xa0]);
  return out;
}

/** The big inputs the issue names, always included. */
function specials(): (string | Uint8Array)[] {
  const big = 'x'.repeat(1 << 20);
  return [
    'FROM a\nRUN ' + big + '\n',
    'FROM a\nRUN echo \\\n' + 'x \\\n'.repeat(20000) + 'end\n',
    'FROM a\nRUN <<EOF\n' + 'line of a huge heredoc\n'.repeat(50000) + 'EOF\n',
    'FROM a\nRUN <<EOF\n' + 'unterminated\n'.repeat(50000),
    '\ufeffFROM a\r\nRUN \u0000echo\u0000\r\n',
    new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from('FROM a\nRUN '), 0xff, 0xfe, 0xfd, 0x0a, 0xc3]),
    'FROM a\n' + 'ENV ' + 'k=v '.repeat(10000) + '\n',
    'FROM a\nCMD ' + '['.repeat(10000) + '\n',
    'FROM a\nRUN ' + '${'.repeat(5000) + '\n',
    '\\\n'.repeat(1000),
  ];
}

function check(input: string | Uint8Array, env: Record<string, string>): void {
  try {
    const raw = parseRaw(input, 'Dockerfile');
    for (const ins of typeInstructions(raw)) expandInstruction(ins, env, raw.directives.escape);
  } catch (e) {
    const errors = e instanceof UserErrors ? e.errors : e instanceof UserError ? [e] : undefined;
    if (!errors) throw e;
    assert.ok(errors.length > 0);
    for (const err of errors) {
      assert.equal(typeof err.where, 'object', `${err.code} must have a source range`);
      const where = err.where as { start: { line: number; column: number } };
      assert.ok(where.start.line >= 1 && where.start.column >= 1, `${err.code} has a 1-based position`);
    }
  }
}

test(`fuzz: ${count} generated and mutated Dockerfiles parse or fail with located UserErrors (seed ${seed})`, { timeout: 300_000 }, () => {
  console.log(`fuzz seed ${seed} (replay with TSBUILD_FUZZ_SEED=${seed})`);
  const env = { V: 'a.b.c', P: 'linux/amd64', IMG: 'alpine' };
  let ran = 0;
  for (const input of specials()) {
    check(input, env);
    ran++;
  }
  while (ran < count) {
    const text = rnd() < 0.5 ? generate() : mutate(generate());
    const input = rnd() < 0.2 ? toBytes(text) : text;
    try {
      check(input, env);
    } catch (e) {
      const shown = typeof input === 'string' ? JSON.stringify(input) : `bytes ${Buffer.from(input).toString('hex')}`;
      throw new Error(`input #${ran} (seed ${seed}) ${shown}: ${(e as Error).stack}`);
    }
    ran++;
  }
  console.log(`fuzz inputs run: ${ran}, failures: 0`);
});
