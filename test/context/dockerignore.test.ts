import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePatterns, parseDockerignore, readIgnoreLines } from '../../context/dockerignore.js';
import { goMatch } from '../../context/glob.js';
import { UserError } from '../../common/index.js';

// moby/patternmatcher TestMatches (one pattern; `pass != fail` as MatchesUsingParentResults sees it).
// Rows whose text is "/" are left out: tsbuild, like Docker, never excludes the context root.
const singlePattern: [pattern: string, path: string, excluded: boolean][] = [
  ['**', 'file', true], ['**', 'file/', true], ['**/', 'file', true], ['**/', 'file/', true],
  ['**', 'dir/file', true], ['**/', 'dir/file', true], ['**', 'dir/file/', true], ['**/', 'dir/file/', true],
  ['**/**', 'dir/file', true], ['**/**', 'dir/file/', true], ['dir/**', 'dir/file', true], ['dir/**', 'dir/file/', true],
  ['dir/**', 'dir/dir2/file', true], ['dir/**', 'dir/dir2/file/', true], ['**/dir', 'dir', true], ['**/dir', 'dir/file', true],
  ['**/dir2/*', 'dir/dir2/file', true], ['**/dir2/*', 'dir/dir2/file/', true], ['**/dir2/**', 'dir/dir2/dir3/file', true],
  ['**/dir2/**', 'dir/dir2/dir3/file/', true], ['**file', 'file', true], ['**file', 'dir/file', true], ['**/file', 'dir/file', true],
  ['**file', 'dir/dir/file', true], ['**/file', 'dir/dir/file', true], ['**/file*', 'dir/dir/file', true],
  ['**/file*', 'dir/dir/file.txt', true], ['**/file*txt', 'dir/dir/file.txt', true], ['**/file*.txt', 'dir/dir/file.txt', true],
  ['**/file*.txt*', 'dir/dir/file.txt', true], ['**/**/*.txt', 'dir/dir/file.txt', true], ['**/**/*.txt2', 'dir/dir/file.txt', false],
  ['**/*.txt', 'file.txt', true], ['**/**/*.txt', 'file.txt', true], ['a**/*.txt', 'a/file.txt', true],
  ['a**/*.txt', 'a/dir/file.txt', true], ['a**/*.txt', 'a/dir/dir/file.txt', true], ['a/*.txt', 'a/dir/file.txt', false],
  ['a/*.txt', 'a/file.txt', true], ['a/*.txt**', 'a/file.txt', true], ['a[b-d]e', 'ae', false], ['a[b-d]e', 'ace', true],
  ['a[b-d]e', 'aae', false], ['a[^b-d]e', 'aze', true], ['.*', '.foo', true], ['.*', 'foo', false], ['abc.def', 'abcdef', false],
  ['abc.def', 'abc.def', true], ['abc.def', 'abcZdef', false], ['abc?def', 'abcZdef', true], ['abc?def', 'abcdef', false],
  ['**/foo/bar', 'foo/bar', true], ['**/foo/bar', 'dir/foo/bar', true], ['**/foo/bar', 'dir/dir2/foo/bar', true],
  ['abc/**', 'abc', false], ['abc/**', 'abc/def', true], ['abc/**', 'abc/def/ghi', true], ['**/.foo', '.foo', true],
  ['**/.foo', 'bar.foo', false], ['a(b)c/def', 'a(b)c/def', true], ['a(b)c/def', 'a(b)c/xyz', false],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  ['a\\\\', 'a\\', true], ['a\\*b', 'a*b', true],
  // Go's filepath.Match table as patternmatcher runs it (TestMatch).
  ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true], ['a*', 'ab/c', true],
  ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false], ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true], ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false], ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true], ['a*b?c*x', 'abxbbxdbxebxczzy', false], ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false], ['ab[^c]', 'abc', false], ['ab[^b-d]', 'abc', false], ['ab[^e-g]', 'abc', true],
  ['a\\*b', 'ab', false], ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true], ['a???b', 'a☺b', false],
  ['a[^a][^a][^a]b', 'a☺b', false], ['[a-ζ]*', 'α', true], ['*[a-ζ]', 'A', false], ['a?b', 'a/b', false], ['a*b', 'a/b', false],
  ['[\\]a]', ']', true], ['[\\-]', '-', true], ['[x\\-]', 'x', true], ['[x\\-]', '-', true], ['[x\\-]', 'z', false],
  ['[\\-x]', 'x', true], ['[\\-x]', '-', true], ['[\\-x]', 'a', false], ['*x', 'xxx', true],
];
for (const [pattern, path, excluded] of singlePattern)
  test(`pattern ${JSON.stringify(pattern)} ${excluded ? 'excludes' : 'keeps'} ${JSON.stringify(path)}`, () => {
    assert.equal(compilePatterns([pattern]).isExcluded(path), excluded);
  });

const badPatterns = ['[]a]', '[-]', '[x-]', '[-x]', '\\', '[a-b-c]', '[', '[^', '[^bc', 'a[', '!'];
for (const p of badPatterns)
  test(`malformed pattern ${JSON.stringify(p)} is a dockerignore-bad-pattern error`, () => {
    assert.throws(() => compilePatterns([p]), (e: unknown) => e instanceof UserError && e.code === 'dockerignore-bad-pattern');
  });

// Several patterns: patternmatcher's multiPatternTests + folder-exception tests + Docker's documented examples.
const multi: { name: string; file: string; path: string; excluded: boolean }[] = [
  { name: 'an exception re-includes a folder', file: '**\n!util/docker/web', path: 'util/docker/web/foo', excluded: false },
  { name: 'a later pattern excludes again', file: '**\n!util/docker/web\nutil/docker/web/foo', path: 'util/docker/web/foo', excluded: true },
  { name: 'exact exception with regexp characters', file: '**\n!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', path: 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', excluded: false },
  { name: 'wildcard exception', file: '**\n!dist/*.whl', path: 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', excluded: false },
  { name: 'exception before the pattern has no effect', file: '!fileutils.go\n*.go', path: 'fileutils.go', excluded: true },
  { name: 'folder then exception', file: 'docs\n!docs/README.md', path: 'docs/README.md', excluded: false },
  { name: 'folder with slash then exception', file: 'docs/\n!docs/README.md', path: 'docs/README.md', excluded: false },
  { name: 'folder wildcard then exception', file: 'docs/*\n!docs/README.md', path: 'docs/README.md', excluded: false },
  { name: 'pattern then exception', file: '*.go\n!fileutils.go', path: 'fileutils.go', excluded: false },
  { name: 'a pattern matching a parent dir excludes what is below', file: 'build', path: 'build/deep/x.o', excluded: true },
  // Docker docs, "Dockerignore files": the example file and its table.
  { name: 'docs: */temp* excludes a file in a direct subdirectory', file: '# comment\n*/temp*\n*/*/temp*\ntemp?', path: 'somedir/temporary.txt', excluded: true },
  { name: 'docs: */temp* excludes a directory in a direct subdirectory', file: '*/temp*', path: 'somedir/temp', excluded: true },
  { name: 'docs: */temp* does not reach two levels down', file: '*/temp*', path: 'somedir/subdir/temporary.txt', excluded: false },
  { name: 'docs: */*/temp* excludes two levels down', file: '*/*/temp*', path: 'somedir/subdir/temporary.txt', excluded: true },
  { name: 'docs: temp? excludes /tempa', file: 'temp?', path: 'tempa', excluded: true },
  { name: 'docs: temp? keeps /temp', file: 'temp?', path: 'temp', excluded: false },
  { name: 'docs: the comment line is ignored', file: '# comment', path: '# comment', excluded: false },
  { name: 'docs: /foo/bar and foo/bar are the same', file: '/foo/bar', path: 'foo/bar', excluded: true },
  { name: 'docs: foo/bar excludes nothing else', file: 'foo/bar', path: 'bar/foo/bar', excluded: false },
  { name: 'docs: **/*.go matches in the root', file: '**/*.go', path: 'main.go', excluded: true },
  { name: 'docs: **/*.go matches deep', file: '**/*.go', path: 'a/b/c.go', excluded: true },
  { name: 'docs: *.md with !README.md keeps README.md', file: '*.md\n!README.md', path: 'README.md', excluded: false },
  { name: 'docs: *.md with !README.md excludes other md', file: '*.md\n!README.md', path: 'CHANGES.md', excluded: true },
  { name: 'docs: *.md is anchored at the root', file: '*.md', path: 'sub/x.md', excluded: false },
  { name: 'docs: last match wins (README-secret.md excluded)', file: '*.md\n!README*.md\nREADME-secret.md', path: 'README-secret.md', excluded: true },
  { name: 'docs: last match wins (README-secret.md included)', file: '*.md\nREADME-secret.md\n!README*.md', path: 'README-secret.md', excluded: false },
  { name: 'docs: * then exceptions includes only the exceptions', file: '*\n!src', path: 'src/a/b.ts', excluded: false },
  { name: 'docs: * then exceptions excludes the rest', file: '*\n!src', path: 'node_modules/x', excluded: true },
  { name: 'a leading-space # line is a pattern', file: ' #x', path: '#x', excluded: true },
  { name: 'a # line is a comment', file: '#x', path: '#x', excluded: false },
  { name: 'leading ./ is removed', file: './secret', path: 'secret', excluded: true },
  { name: 'patterns are cleaned', file: 'a/../b//c/', path: 'b/c', excluded: true },
  { name: 'trailing spaces are trimmed', file: 'x.log   ', path: 'x.log', excluded: true },
  { name: 'empty lines are ignored', file: '\n\n\nx\n\n', path: 'x', excluded: true },
  { name: 'CRLF line ends', file: 'a\r\nb\r\n', path: 'b', excluded: true },
  { name: 'UTF-8 BOM is stripped', file: '\uFEFFa', path: 'a', excluded: true },
  { name: '! with spaces', file: '*\n!  keep', path: 'keep', excluded: false },
];
for (const c of multi)
  test(`dockerignore: ${c.name}`, () => assert.equal(parseDockerignore(c.file).isExcluded(c.path), c.excluded));

test('ReadAll: comments, leading slash, exceptions (moby ignorefile test)', () => {
  const content = 'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ';
  assert.deepEqual(readIgnoreLines(content), ['test1', 'test2', 'a/file/here', 'lastfile', '!inverted/abs/path', '!', '!']);
});

test('a lone ! in a .dockerignore is an error', () => {
  assert.throws(() => parseDockerignore('a\n!\n'), (e: unknown) => e instanceof UserError && e.code === 'dockerignore-bad-pattern');
});

test('the context root is never excluded', () => assert.equal(parseDockerignore('*\n**').isExcluded('.'), false));

const pruning: { name: string; file: string; dir: string; want: boolean }[] = [
  { name: 'excluded dir without exceptions is pruned', file: 'node_modules', dir: 'node_modules', want: false },
  { name: 'excluded dir with an exception below is walked', file: 'docs\n!docs/README.md', dir: 'docs', want: true },
  { name: 'excluded dir with an unrelated exception is pruned', file: 'docs\n!src/x', dir: 'docs', want: false },
  { name: 'wildcard exception forces a walk', file: 'docs\n!**/*.md', dir: 'docs', want: true },
  { name: 'a kept dir is walked', file: 'docs', dir: 'src', want: true },
  { name: 'exception naming a deeper path keeps the chain', file: '*\n!a/b/c', dir: 'a/b', want: true },
];
for (const c of pruning)
  test(`mayHaveIncludedChildren: ${c.name}`, () => assert.equal(parseDockerignore(c.file).mayHaveIncludedChildren(c.dir), c.want));

const goRows: [string, string, boolean][] = [
  ['*.txt', 'a.txt', true], ['*.txt', 'a/b.txt', false], ['a?c', 'abc', true], ['[a-c]x', 'bx', true], ['[^a-c]x', 'bx', false],
  ['\\*', '*', true], ['*', '', true], ['a*', 'b', false],
];
for (const [p, s, want] of goRows) test(`goMatch(${JSON.stringify(p)}, ${JSON.stringify(s)}) = ${want}`, () => assert.equal(goMatch(p, s), want));
