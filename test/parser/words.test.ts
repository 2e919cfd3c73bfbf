import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../common/index.js';
import { expandHeredocBody, expandWord, expandWords } from '../../parser/index.js';

// Word expansion rules, including BuildKit's lex_test.go TestProcessWithMatches rows.
const cases: { name: string; word: string; env: Record<string, string>; want: string | Error; used?: string[]; escape?: string }[] = [
  { name: 'plain word', word: 'x', env: { DUMMY: 'dummy' }, want: 'x', used: [] },
  { name: 'unset braces expand to nothing', word: 'x ${UNUSED}', env: {}, want: 'x ', used: [] },
  { name: 'set braces', word: 'x ${FOO}', env: { FOO: 'y' }, want: 'x y', used: ['FOO'] },
  { name: '${a-x}: default only when unset', word: '${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', env: { FOO: 'xxx', BAR: '' }, want: 'xxx  ccc', used: ['FOO', 'BAR'] },
  { name: '${a:-x}: default when unset or empty', word: '${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', env: { FOO: 'xxx', BAR: '' }, want: 'xxx bbb ccc' },
  { name: '${a:-} of a set value', word: '${FOO:-}', env: { FOO: 'xxx' }, want: 'xxx' },
  { name: '${a+x}: alternative when set', word: '${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', env: { FOO: 'xxx', BAR: '' }, want: 'aaa bbb ' },
  { name: '${a:+x}: alternative when set and not empty', word: '${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', env: { FOO: 'xxx', BAR: '' }, want: 'aaa  ' },
  { name: '${a?x} of a set value', word: '${FOO?aaa}', env: { FOO: 'xxx' }, want: 'xxx' },
  { name: '${a?x} of an empty value', word: '${BAR?bbb}', env: { BAR: '' }, want: '' },
  { name: '${a?x} of an unset value fails with the message', word: '${BAZ?ccc}', env: {}, want: new Error('BAZ: ccc') },
  { name: '${a:?x} of an empty value fails', word: '${BAR:?bbb}', env: { BAR: '' }, want: new Error('BAR: bbb') },
  { name: '${a:?} of an unset value fails', word: '${BAZ:?}', env: {}, want: new Error('BAZ: is not allowed to be unset') },
  { name: '${a=x} is not supported', word: '${FOO=aaa}', env: { FOO: 'xxx' }, want: new Error('unsupported modifier (=)') },
  { name: 'regex characters in a # pattern are literal', word: '${FOO#()[]{\\}^$.\\*\\?|\\\\}', env: { FOO: '()[]{}^$.*?|\\x' }, want: 'x' },
  { name: '%% removes the longest suffix', word: '${FOO%%\\**}', env: { FOO: 'xx**' }, want: 'xx' },
  { name: '# removes the shortest prefix', word: '${FOO#*x*y}', env: { FOO: 'xxyy' }, want: 'y' },
  { name: '# with a lone * removes nothing', word: '${FOO#*}', env: { FOO: 'xxyy' }, want: 'xxyy' },
  { name: '# pattern from a variable', word: '${FOO#$BAR}', env: { FOO: 'xxyy', BAR: 'x' }, want: 'xyy' },
  { name: '## removes the longest prefix', word: '${FOO##*x}', env: { FOO: 'xxyy' }, want: 'yy' },
  { name: '? matches one character', word: '${FOO#?\\?}', env: { FOO: '???y' }, want: '?y' },
  { name: '% removes the shortest suffix', word: '${ABC:-.}${FOO%x}${ABC:-.}', env: { FOO: 'xxyy' }, want: '.xxyy.' },
  { name: '%% with escaped stars', word: '${FOO%%\\**\\*}', env: { FOO: 'a***yy*' }, want: 'a' },
  { name: 'shortest suffix removed', word: '${F%.gz}', env: { F: 'a.tar.gz' }, want: 'a.tar' },
  { name: 'longest suffix removed', word: '${F%%.*}', env: { F: 'a.tar.gz' }, want: 'a' },
  { name: '/ replaces the first match, // all', word: '${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}', env: { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' }, want: '/foo.*/*.txt - /foo..*.txt' },
  { name: '/ in patterns', word: '${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}', env: { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' }, want: '/tmp/bar.txt - /bar.txt' },
  { name: '? in a replacement pattern', word: '${FOO/$NEEDLE/$R} - ${FOO//$NEEDLE/$R}', env: { FOO: '/a/foo/b/c.txt', NEEDLE: '/?/', R: '/' }, want: '/foo/b/c.txt - /foo/c.txt' },
  { name: 'escaped separators', word: '${FOO//\\//\\/}', env: { FOO: '/tmp/foo.txt' }, want: '\\/tmp\\/foo.txt' },
  { name: 'empty pattern inserts at the start', word: '${FOO/$BAR/ww}', env: { FOO: 'xxyy', BAR: '' }, want: 'wwxxyy' },
  { name: 'missing replacement separator fails', word: '${FOO//ww}', env: { FOO: 'xxyy' }, want: new Error("missing '/'") },
  { name: 'single quotes are literal', word: "'$FOO'", env: { FOO: 'x' }, want: '$FOO' },
  { name: 'double quotes expand', word: '"$FOO bar"', env: { FOO: 'x' }, want: 'x bar' },
  { name: 'escaped dollar', word: '\\$FOO', env: { FOO: 'x' }, want: '$FOO' },
  { name: 'backtick escape', word: '`$FOO', env: { FOO: 'x' }, want: '$FOO', escape: '`' },
  { name: 'backslash is literal with the backtick escape', word: 'C:\\dir', env: {}, want: 'C:\\dir', escape: '`' },
];

for (const c of cases) {
  test(`expand: ${c.name}`, () => {
    const opts = c.escape ? { escape: c.escape } : {};
    if (c.want instanceof Error) {
      const msg = c.want.message;
      assert.throws(() => expandWord(c.word, c.env, opts), (e: unknown) => e instanceof UserError && e.code === 'bad-substitution' && e.message.includes(msg));
      return;
    }
    const r = expandWord(c.word, c.env, opts);
    assert.equal(r.value, c.want);
    if (c.used) assert.deepEqual([...r.used].sort(), [...c.used].sort());
  });
}

test('expandWords splits unquoted expansions and keeps quoted ones whole', () => {
  assert.deepEqual(expandWords('a $X "$X"', { X: '1 2' }).values, ['a', '1', '2', '1 2']);
});

test('a Map and a plain object are accepted as the environment', () => {
  assert.equal(expandWord('$A', new Map([['A', 'm']])).value, 'm');
  assert.equal(expandWord('$A', { A: 'o' }).value, 'o');
});

// Issue 16, promise 6: a word expands to 1 MiB (UTF-8) at most; BuildKit has no limit, and 39
// chained `ENV a=$a$a` lines asked it for 2^39 bytes.
const MiB = 1 << 20;
const tooLarge = (e: unknown) => e instanceof UserError && e.code === 'word-too-large' && /expands to more than 1 MiB/.test(e.message);
const limitCases: { name: string; word: string; env: Record<string, string>; wantBytes?: number }[] = [
  { name: 'a word of exactly 1 MiB is fine', word: '$A$A', env: { A: 'x'.repeat(MiB / 2) }, wantBytes: MiB },
  { name: 'one byte more is refused', word: '$A$A.', env: { A: 'x'.repeat(MiB / 2) } },
  { name: 'one expansion past the limit is refused', word: '$A', env: { A: 'x'.repeat(MiB + 1) } },
  { name: 'bytes are counted in UTF-8, not in characters', word: '$A$A', env: { A: 'é'.repeat(MiB / 2) } },
  { name: 'inside double quotes', word: '"$A$A$A"', env: { A: 'x'.repeat(MiB / 2) } },
  { name: 'inside a default value', word: '${UNSET:-$A$A$A}', env: { A: 'x'.repeat(MiB / 2) } },
  { name: 'a replacement that grows the value is refused while it replaces', word: '${A//x/$R}', env: { A: 'x'.repeat(1000), R: 'y'.repeat(2000) } },
  { name: 'a replacement that stays under the limit is fine', word: '${A//x/yy}', env: { A: 'x'.repeat(1000) }, wantBytes: 2000 },
];
for (const c of limitCases) {
  test(`expansion limit: ${c.name}`, () => {
    if (c.wantBytes === undefined) {
      assert.throws(() => expandWord(c.word, c.env), tooLarge);
      assert.throws(() => expandWords(c.word, c.env), tooLarge);
    } else {
      assert.equal(Buffer.byteLength(expandWord(c.word, c.env).value), c.wantBytes);
    }
  });
}

test('the size error names the word (shortened) and hints at a self-referencing variable', () => {
  const word = '$A'.repeat(100);
  assert.throws(
    () => expandWord(word, { A: 'x'.repeat(MiB / 64) }),
    (e: unknown) =>
      e instanceof UserError &&
      e.message === `failed to process "${word.slice(0, 77)}...": it expands to more than 1 MiB` &&
      /ENV a=\$a\$a/.test(e.hint ?? ''),
  );
});

// BuildKit's ExpandRaw of a COPY heredoc body (instructions/commands.go): a lexer with `\`
// and SkipProcessQuotes, so quotes stay and escapes apply, whatever the escape directive.
const heredocCases = [
  { name: 'variables substituted', body: 'Hello ${name}, $name!\n', want: 'Hello world, world!\n' },
  { name: 'quotes kept, variables inside them substituted', body: `'$name' "$name"\n`, want: `'world' "world"\n` },
  { name: 'a backslash escapes the next character', body: '\\$name \\\\ \\x\n', want: '$name \\ x\n' },
  { name: 'an unset variable is empty', body: '[$nothing]\n', want: '[]\n' },
  { name: 'an unmatched quote is a plain character', body: `it's "${'$'}{name}\n`, want: `it's "world\n` },
];
for (const c of heredocCases) {
  test(`heredoc body: ${c.name}`, () => assert.equal(expandHeredocBody(c.body, { name: 'world' }), c.want));
}

// parser/words.ts expands a word with no `$`, single quote or escape without the lexer. The
// same words through the lexer itself (parser/shell-lexer.ts, BuildKit's shell/lex.go) must give
// the same value, or the same error: 20,000 words over an alphabet of the lexer's special
// characters, with both escape characters.
test('a plain word expands as the lexer expands it, quotes, errors and escapes alike', async () => {
  const { lexWord } = await import('../../parser/shell-lexer.js');
  const alphabet = ['a', 'b', ' ', '"', '"', "'", '$', '\\', '`', '{', '}', '=', '\ufeff', 'é'];
  let x = 12345;
  const rand = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const outcome = (f: () => string) => {
    try {
      return f();
    } catch (e) {
      return `error: ${(e as Error).message}`;
    }
  };
  let plain = 0;
  for (let i = 0; i < 20_000; i++) {
    const word = Array.from({ length: 1 + rand(8) }, () => alphabet[rand(alphabet.length)]).join('');
    const escape = i % 2 ? '`' : '\\';
    const env = new Map([['a', 'A']]);
    const fast = outcome(() => expandWord(word, env, { escape }).value);
    const lexed = outcome(() => lexWord(word, env, { escape }).value);
    if (!fast.startsWith('error') && !/[$'\\`\ufeff]/.test(word)) plain++;
    assert.equal(fast.startsWith('error'), lexed.startsWith('error'), `${JSON.stringify(word)} (escape ${escape}): ${fast} / ${lexed}`);
    if (!fast.startsWith('error')) assert.equal(fast, lexed, `${JSON.stringify(word)} (escape ${escape})`);
  }
  assert.ok(plain > 2000, `the plain path was taken (${plain} words)`);
});
