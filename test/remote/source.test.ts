import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../common/index.js';
import { parseRemoteSource } from '../../remote/index.js';

// Which ADD sources are remote, as BuildKit's frontend/dockerfile/dfgitutil/git_ref.go
// ParseGitRef and dockerfile2llb/convert_copy.go isHTTPSource decide (their test table,
// git_ref_test.go, in our own rows).
const cases: { name: string; src: string; want: unknown }[] = [
  { name: 'a context path', src: 'dir/file.txt', want: undefined },
  { name: 'a relative path that looks like scp', src: './a@b:c', want: undefined },
  { name: 'another scheme is a context path', src: 'ftp://host/file', want: undefined },
  { name: 'an http URL is a file named from its path', src: 'https://example.com/dl/app-1.2.tar.gz?x=1', want: { kind: 'http', url: 'https://example.com/dl/app-1.2.tar.gz?x=1', filename: 'app-1.2.tar.gz' } },
  { name: 'an http URL without a path is __unnamed__', src: 'http://example.com/', want: { kind: 'http', url: 'http://example.com/', filename: '__unnamed__' } },
  { name: 'an https URL ending in .git is a repository', src: 'https://example.com/org/repo.git', want: { kind: 'git', remote: 'https://example.com/org/repo.git', ref: '', subdir: '', isSsh: false } },
  { name: 'ref and subdir from the fragment', src: 'https://example.com/repo.git#v1.0:docs/./api/', want: { kind: 'git', remote: 'https://example.com/repo.git', ref: 'v1.0', subdir: 'docs/api', isSsh: false } },
  { name: 'scp-style is ssh', src: 'git@github.com:moby/buildkit.git#main', want: { kind: 'git', remote: 'git@github.com:moby/buildkit.git', ref: 'main', subdir: '', isSsh: true } },
  { name: 'ssh:// is ssh', src: 'ssh://git@example.com/repo', want: { kind: 'git', remote: 'ssh://git@example.com/repo', ref: '', subdir: '', isSsh: true } },
  { name: 'git:// is git without ssh', src: 'git://example.com/repo#dev', want: { kind: 'git', remote: 'git://example.com/repo', ref: 'dev', subdir: '', isSsh: false } },
  {
    name: 'query keys: tag, subdir, checksum, keep-git-dir',
    src: 'https://example.com/repo.git?tag=v2&subdir=sub&checksum=abc123&keep-git-dir=true',
    want: { kind: 'git', remote: 'https://example.com/repo.git', ref: 'refs/tags/v2', subdir: 'sub', isSsh: false, checksum: 'abc123', keepGitDir: true },
  },
];
for (const c of cases) test(`parseRemoteSource: ${c.name}`, () => assert.deepEqual(parseRemoteSource(c.src), c.want));

const bad: { name: string; src: string; code: string }[] = [
  { name: 'an unknown query key', src: 'https://example.com/repo.git?depth=1', code: 'git-bad-query' },
  { name: 'a ref given twice, differently', src: 'https://example.com/repo.git?ref=a#b', code: 'git-ref-conflict' },
  { name: 'a branch and a tag', src: 'https://example.com/repo.git?branch=a&tag=b', code: 'git-bad-query' },
];
for (const c of bad) {
  test(`parseRemoteSource rejects ${c.name}`, () => assert.throws(() => parseRemoteSource(c.src), (e: unknown) => e instanceof UserError && e.code === c.code));
}
