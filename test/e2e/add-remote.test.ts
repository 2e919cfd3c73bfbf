import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, after, test } from 'node:test';
import { promisify } from 'node:util';
import { runCli, type CliResult } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { conditionalFile, gitHttpBackend, startFileServer, type FileServer } from '../helpers/file-server.js';
import { writeTree } from '../helpers/files.js';
import { freePort } from '../helpers/registry-server.js';
import { runCliWatched } from '../helpers/watched-cli.js';
import { seededBytes } from '../registry/image-fixture.js';

// ADD of URLs and git repositories as BuildKit does it, against real servers on 127.0.0.1:
// frontend/dockerfile/dockerfile2llb/convert_copy.go (dispatchCopy: the file name, no unpack
// unless --unpack, git "/" copied into the destination), source/http/source.go (0600,
// Last-Modified mtime, ETag revalidation, --checksum with no request, "digest mismatch"),
// source/git/source.go (ls-remote resolution, checksum prefix, subdir, keep-git-dir).

const exec = promisify(execFile);
const NO_PROXY_ENV = { HTTP_PROXY: '', http_proxy: '', HTTPS_PROXY: '', https_proxy: '', NO_PROXY: '', no_proxy: '' };

let work: string;
let root: string;
let srv: FileServer;
let tlsSrv: FileServer;
let certPath: string;
/** The repository over dumb HTTP (its files) and over smart HTTP (git http-backend). */
let git: string;
let smartGit: string;
let commits: { c1: string; c2: string; tagObject: string };
let gitSrc: string;
let bare: string;

const LAST_MODIFIED = 'Tue, 15 Nov 1994 08:12:31 GMT';
const changing = { body: 'version one\n', etag: 'v1' };
const slowBytes = seededBytes(7, 1 << 20);
const HELLO = 'hello from the server\n';
const BIG_BYTES = 320 << 20;
const MEMORY_BOUND = 256 << 20;

async function gitIn(cwd: string, ...args: string[]): Promise<string> {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z' };
  const { stdout } = await exec('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, env });
  return stdout.trim();
}

/** A repository with a tagged first commit (a.txt "one", sub/…) and a second on main (a.txt "two"), served by dumb HTTP. */
async function makeRepo(): Promise<void> {
  gitSrc = join(work, 'git-src');
  await writeTree(gitSrc, { 'a.txt': 'one\n', 'sub/b.txt': 'bee\n', 'sub/deep/c.txt': 'sea\n' });
  await gitIn(gitSrc, 'init', '-q', '-b', 'main');
  await gitIn(gitSrc, 'add', '.');
  await gitIn(gitSrc, 'commit', '-q', '-m', 'first');
  await gitIn(gitSrc, 'tag', '-a', 'v1', '-m', 'release one');
  await writeFile(join(gitSrc, 'a.txt'), 'two\n');
  await gitIn(gitSrc, 'commit', '-q', '-am', 'second');
  await mkdir(join(work, 'repos'));
  bare = join(work, 'repos', 'repo.git');
  await gitIn(work, 'clone', '-q', '--bare', gitSrc, bare);
  await gitIn(bare, 'update-server-info');
  commits = {
    c1: await gitIn(gitSrc, 'rev-parse', 'v1^{commit}'),
    c2: await gitIn(gitSrc, 'rev-parse', 'main'),
    tagObject: await gitIn(gitSrc, 'rev-parse', 'v1'),
  };
}

/** A new commit on main (a.txt = `text`), pushed to the served repository. */
async function commitOnMain(text: string): Promise<string> {
  await writeFile(join(gitSrc, 'a.txt'), text);
  await gitIn(gitSrc, 'commit', '-q', '-am', text.trim());
  await gitIn(gitSrc, 'push', '-q', bare, 'main');
  await gitIn(bare, 'update-server-info');
  return gitIn(gitSrc, 'rev-parse', 'main');
}

before(async () => {
  ({ work, root } = await busyboxWork('tsbuild-add-remote-'));
  const tarDir = join(work, 'tar-src');
  await writeTree(tarDir, { 'app/run.sh': 'echo run\n' });
  await exec('tar', ['-cf', join(work, 'app.tar'), '-C', tarDir, 'app']);
  const tarBytes = await readFile(join(work, 'app.tar'));
  await makeRepo();
  srv = await startFileServer(
    {
      '/files/hello.txt': conditionalFile(() => ({ body: HELLO, etag: 'hello-1', lastModified: LAST_MODIFIED })),
      '/mirror/hello.txt': conditionalFile(() => ({ body: HELLO, etag: 'mirror-1', lastModified: LAST_MODIFIED })),
      '/files/changing.txt': conditionalFile(() => ({ ...changing, lastModified: LAST_MODIFIED })),
      '/files/pinned.txt': (_req, res) => void res.writeHead(200).end('pinned\n'),
      '/files/owned.txt': (_req, res) => void res.writeHead(200).end('owned\n'),
      '/files/odd%5B1%5D%2A%3F.txt': (_req, res) => void res.writeHead(200).end('odd\n'),
      '/app.tar': (_req, res) => void res.writeHead(200, { 'content-length': tarBytes.length }).end(tarBytes),
      '/big.bin': async (_req, res) => {
        res.writeHead(200, { 'content-length': BIG_BYTES });
        const chunk = Buffer.alloc(1 << 20, 7);
        for (let sent = 0; sent < BIG_BYTES; sent += chunk.length) {
          if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
        }
        res.end();
      },
      '/slow.bin': async (_req, res) => {
        res.writeHead(200);
        // Four pieces with pauses: the download keeps reading while the body trickles in.
        for (let i = 0; i < 4; i++) {
          res.write(slowBytes.subarray(i * (slowBytes.length / 4), (i + 1) * (slowBytes.length / 4)));
          await new Promise((r) => setTimeout(r, 300));
        }
        res.end();
      },
    },
    { prefixes: { '/smart/': gitHttpBackend('/smart/', join(work, 'repos')) }, dirs: { '/git/': join(work, 'repos') } },
  );
  git = `${srv.url}/git/repo.git`;
  smartGit = `${srv.url}/smart/repo.git`;
  const keyPath = join(work, 'tls.key');
  certPath = join(work, 'tls.crt');
  await exec('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  tlsSrv = await startFileServer({ '/secure.txt': (_req, res) => void res.writeHead(200).end('secure\n') }, { tls: { cert: await readFile(certPath), key: await readFile(keyPath) } });
});

after(async () => {
  await srv?.close();
  await tlsSrv?.close();
});

let n = 0;
type BuildOpts = { env?: NodeJS.ProcessEnv; tag?: string; args?: string[]; ctx?: string };

async function build(dockerfile: string, opts: BuildOpts = {}): Promise<CliResult> {
  const ctx = join(work, opts.ctx ?? `ctx-${++n}`);
  // A named context is written once: a replay record needs files older than the build.
  if (!opts.ctx || !existsSync(ctx)) await writeTree(ctx, { Dockerfile: dockerfile, 'local.txt': 'local\n' });
  return runCli(['build', '--progress', 'plain', ...(opts.args ?? []), '-t', opts.tag ?? `remote-${n}`, ctx], { root, env: { ...NO_PROXY_ENV, ...opts.env } });
}

async function built(dockerfile: string, opts: BuildOpts = {}): Promise<{ tag: string; stderr: string }> {
  const tag = opts.tag ?? `remote-${n + 1}`;
  const r = await build(dockerfile, { ...opts, tag });
  assert.equal(r.code, 0, r.stderr);
  return { tag, stderr: r.stderr };
}

async function shIn(image: string, script: string): Promise<string> {
  const r = await runCli(['run', '--rm', image, 'sh', '-c', script], { root });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** One clear line: exit 1, the code and message once, no stack trace. */
function failsWith(r: CliResult, code: string, message: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`error\\[${code}\\]: `), r.stderr);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.match(/error\[/g)?.length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
}

const isCached = (stderr: string, what: string) => new RegExp(`ADD [^\\n]*${what}[^\\n]*\\n#\\d+ CACHED`).test(stderr);

test('ADD of a URL: named from the URL path, mode 0600, mtime from Last-Modified, owned by root, not extracted', async () => {
  const { tag } = await built(`FROM busybox\nADD ${srv.url}/files/hello.txt /d/\nADD ${srv.url}/files/hello.txt /renamed\nADD ${srv.url}/app.tar /t/\n`);
  const out = await shIn(tag, "stat -c '%a %u:%g %Y' /d/hello.txt /renamed; cat /d/hello.txt; test -f /t/app.tar && test ! -e /t/app && echo tar-kept");
  const mtime = Date.parse(LAST_MODIFIED) / 1000;
  assert.equal(out, `600 0:0 ${mtime}\n600 0:0 ${mtime}\n${HELLO}tar-kept\n`);
});

test('a file name with wildcard characters is that file, not a pattern', async () => {
  const { tag } = await built(`FROM busybox\nADD ${srv.url}/files/odd%5B1%5D%2A%3F.txt /d/\n`);
  assert.equal(await shIn(tag, "cat '/d/odd[1]*?.txt'"), 'odd\n');
});

test('the key is the content, not the URL: the same file from a mirror is CACHED', async () => {
  await built(`FROM busybox\nADD ${srv.url}/files/hello.txt /m/\n`);
  const mirror = await built(`FROM busybox\nADD ${srv.url}/mirror/hello.txt /m/\n`);
  assert.ok(isCached(mirror.stderr, 'mirror'), mirror.stderr);
});

test('ADD --unpack=true of a URL extracts the tarball', async () => {
  const { tag } = await built(`FROM busybox\nADD --unpack=true ${srv.url}/app.tar /u/\n`);
  assert.equal(await shIn(tag, 'cat /u/app/run.sh; test ! -e /u/app.tar && echo no-tar'), 'echo run\nno-tar\n');
});

test('ADD --chown and --chmod apply to the downloaded file', async () => {
  const { tag } = await built(`FROM busybox\nADD --chown=65534:65534 --chmod=755 ${srv.url}/files/owned.txt /o\n`);
  assert.equal(await shIn(tag, "stat -c '%a %u:%g' /o; cat /o"), '755 65534:65534\nowned\n');
});

// The same command in the same folder each time: a fully cached build with a URL is never
// replayed by the front door (cli/build-replay.ts), which would not ask the server.
test('a rebuild asks again with If-None-Match: CACHED on 304, rebuilt when the file changed', async () => {
  const df = `FROM busybox\nADD ${srv.url}/files/changing.txt /c\n`;
  const same = { tag: 'changing', ctx: 'ctx-changing' };
  const first = await built(df, same);
  assert.equal(await shIn(first.tag, 'cat /c'), 'version one\n');
  await new Promise((r) => setTimeout(r, 200)); // older than a replay's racy window
  for (let i = 0; i < 2; i++) {
    const mark = srv.hits.length;
    const again = await built(df, same);
    assert.ok(isCached(again.stderr, 'changing'), again.stderr);
    assert.deepEqual(srv.hits.slice(mark), [`GET /files/changing.txt if-none-match="v1" if-modified-since=${LAST_MODIFIED} → 304`]);
  }
  Object.assign(changing, { body: 'version two\n', etag: 'v2' });
  const third = await built(df, same);
  assert.ok(!isCached(third.stderr, 'changing'), third.stderr);
  assert.equal(await shIn('changing', 'cat /c'), 'version two\n');
});

test('ADD --checksum: a match builds, a cached rebuild sends no request, a mismatch names both digests', async () => {
  const sum = 'sha256:' + createHash('sha256').update('pinned\n').digest('hex');
  const df = `FROM busybox\nADD --checksum=${sum} ${srv.url}/files/pinned.txt /p\n`;
  const { tag } = await built(df);
  assert.equal(await shIn(tag, 'cat /p'), 'pinned\n');
  const mark = srv.hits.length;
  const again = await built(df);
  assert.ok(isCached(again.stderr, 'pinned'), again.stderr);
  assert.deepEqual(srv.hits.slice(mark), []);
  const wrong = 'sha256:' + '1'.repeat(64);
  const r = await build(`FROM busybox\nADD --checksum=${wrong} ${srv.url}/files/owned.txt /p\n`);
  const got = 'sha256:' + createHash('sha256').update('owned\n').digest('hex');
  failsWith(r, 'http-digest-mismatch', new RegExp(`Dockerfile:2:1: error\\[http-digest-mismatch\\]: digest mismatch for ${srv.url}/files/owned.txt: ${got} \\(expected: ${wrong}\\)`));
  failsWith(await build(`FROM busybox\nADD --checksum=md5:abc ${srv.url}/files/owned.txt /p\n`), 'http-bad-checksum', /invalid checksum "md5:abc"/);
});

test('a body that trickles in slowly arrives whole', async () => {
  const { tag } = await built(`FROM busybox\nADD ${srv.url}/slow.bin /slow.bin\n`);
  assert.equal(await shIn(tag, 'sha256sum /slow.bin'), `${createHash('sha256').update(slowBytes).digest('hex')}  /slow.bin\n`);
});

test('a download streams to disk: a body larger than the memory bound never sits in memory', async (t) => {
  const ctx = join(work, 'ctx-big');
  await writeTree(ctx, { Dockerfile: `FROM busybox\nADD ${srv.url}/big.bin /big\n` });
  const r = await runCliWatched(['build', '--progress', 'plain', '-t', 'big', ctx], { root, env: NO_PROXY_ENV, killAfterMs: 600_000 });
  t.diagnostic(`peak RSS ${(r.peakRssBytes / (1 << 20)).toFixed(0)} MiB`);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.peakRssBytes > 0 && r.peakRssBytes < MEMORY_BOUND, `peak RSS ${r.peakRssBytes >> 20} MiB`);
  assert.equal(await shIn('big', 'stat -c %s /big'), `${BIG_BYTES}\n`);
  assert.equal((await runCli(['rmi', 'big'], { root })).code, 0);
});

test('a proxy from HTTP_PROXY carries the download (a host only the proxy can reach)', async () => {
  const asked: string[] = [];
  const proxy = createServer((req, res) => {
    // Absolute-form request: forward it to the file server.
    asked.push(req.url ?? '');
    const target = new URL(req.url ?? '/');
    const up = httpRequest({ host: '127.0.0.1', port: srv.port, path: target.pathname, method: req.method, headers: req.headers }, (u) => {
      res.writeHead(u.statusCode ?? 502, u.headers);
      u.pipe(res);
    });
    req.pipe(up);
  });
  proxy.on('connect', (req, socket, head) => {
    asked.push(`CONNECT ${req.url}`);
    const up = connect(srv.port, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  try {
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const { tag } = await built(`FROM busybox\nADD http://files.example.invalid/files/hello.txt /h\n`, { env: { HTTP_PROXY: proxyUrl } });
    assert.equal(await shIn(tag, 'cat /h'), HELLO);
    assert.ok(asked.some((a) => a.includes('files.example.invalid')), asked.join('\n'));
  } finally {
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
  }
});

test('HTTPS with a CA the build trusts through NODE_EXTRA_CA_CERTS', async () => {
  const { tag } = await built(`FROM busybox\nADD ${tlsSrv.url}/secure.txt /s\n`, { env: { NODE_EXTRA_CA_CERTS: certPath } });
  assert.equal(await shIn(tag, 'cat /s'), 'secure\n');
});

test('download errors are one line naming the URL: 404, refused, DNS, TLS', async () => {
  failsWith(await build(`FROM busybox\nADD ${srv.url}/missing /x\n`), 'http-status', new RegExp(`Dockerfile:2:1: error\\[http-status\\]: ${srv.url}/missing: 404 Not Found`));
  // Credentials in the URL are not repeated in the message (BuildKit's urlutil.RedactCredentials).
  const withCredentials = srv.url.replace('http://', 'http://user:secret@');
  failsWith(await build(`FROM busybox\nADD ${withCredentials}/missing /x\n`), 'http-status', new RegExp(`error\\[http-status\\]: http://xxxxx@127\\.0\\.0\\.1:\\d+/missing: 404 Not Found\n`));
  const closed = `http://127.0.0.1:${await freePort()}/x`;
  failsWith(await build(`FROM busybox\nADD ${closed} /x\n`), 'http-refused', new RegExp(`${closed}: connection refused`));
  failsWith(await build('FROM busybox\nADD http://no-such-host.invalid/x /x\n'), 'http-dns', /http:\/\/no-such-host\.invalid\/x: cannot resolve host no-such-host\.invalid/);
  const r = await build(`FROM busybox\nADD ${tlsSrv.url}/secure.txt /s\n`);
  failsWith(r, 'http-tls', new RegExp(`${tlsSrv.url}/secure.txt: TLS: `));
  assert.match(r.stderr, /NODE_EXTRA_CA_CERTS/);
});

test('COPY of a URL or git ref, and ADD mixing them with local files, are one clear line', async () => {
  failsWith(await build(`FROM busybox\nCOPY ${srv.url}/files/hello.txt /x\n`), 'copy-url', /source can't be a URL for COPY/);
  failsWith(await build(`FROM busybox\nCOPY ${git} /x\n`), 'copy-git', /source can't be a git ref for COPY/);
  failsWith(await build(`FROM busybox\nADD local.txt ${srv.url}/files/hello.txt /x/\n`), 'add-remote-unsupported', /mixed with local ones in one ADD is not supported yet/);
});

test('ADD of a git repository over HTTP: the default branch, without .git', async () => {
  const { tag } = await built(`FROM busybox\nADD ${git} /src\n`);
  assert.equal(await shIn(tag, 'cat /src/a.txt /src/sub/deep/c.txt; ls -a /src | tr "\\n" " "'), 'two\nsea\n. .. a.txt sub ');
});

test('ADD of a git tag and a subdir (#v1:sub) copies that directory of the tagged commit', async () => {
  const { tag } = await built(`FROM busybox\nADD ${git}#v1:sub /s/\n`);
  assert.equal(await shIn(tag, 'cat /s/b.txt /s/deep/c.txt; ls /s | tr "\\n" " "'), 'bee\nsea\nb.txt deep ');
});

test('ADD --keep-git-dir keeps .git at the resolved commit; a branch and a full commit sha are refs too', async () => {
  const { tag } = await built(`FROM busybox\nADD --keep-git-dir ${git}#main /k\nADD ${git}#${commits.c1} /c\n`);
  assert.equal(await shIn(tag, 'cat /k/.git/HEAD /k/a.txt /c/a.txt; test ! -e /c/.git && echo no-git'), `${commits.c2}\ntwo\none\nno-git\n`);
});

test('ADD --checksum on git: a prefix of the commit builds; another names what it got', async () => {
  const { tag } = await built(`FROM busybox\nADD --checksum=${commits.c1.slice(0, 10)} ${git}#v1 /v\n`);
  assert.equal(await shIn(tag, 'cat /v/a.txt'), 'one\n');
  failsWith(
    await build(`FROM busybox\nADD --checksum=deadbeef ${git}#v1 /v\n`),
    'git-checksum-mismatch',
    new RegExp(`expected checksum to match deadbeef, got ${commits.tagObject} or ${commits.c1}`),
  );
  failsWith(await build(`FROM busybox\nADD --checksum=not-hex ${git} /v\n`), 'git-bad-checksum', /invalid checksum not-hex for Git URL, expected hex commit hash/);
});

test('a git rebuild is CACHED while the branch stays, and rebuilt when it moves', async () => {
  const df = `FROM busybox\nADD ${git}#main /m\n`;
  await built(df, { tag: 'git-main' });
  const again = await built(df, { tag: 'git-main' });
  assert.ok(isCached(again.stderr, 'repo.git#main'), again.stderr);
  await commitOnMain('three\n');
  const moved = await built(df, { tag: 'git-main' });
  assert.ok(!isCached(moved.stderr, 'repo.git#main'), moved.stderr);
  assert.equal(await shIn('git-main', 'cat /m/a.txt'), 'three\n');
});

test('git source errors are one line: unknown ref, ssh without an agent, unreachable server', async () => {
  failsWith(await build(`FROM busybox\nADD ${git}#nosuch /x\n`), 'git-no-ref', /repo\.git: repository does not contain ref nosuch/);
  const ssh = await build('FROM busybox\nADD git@127.0.0.1:team/repo.git /x\n');
  failsWith(ssh, 'git-ssh-needs-agent', /git@127\.0\.0\.1:team\/repo\.git: an ssh git source needs an ssh agent/);
  assert.match(ssh.stderr, /--ssh default/);
  failsWith(await build('FROM busybox\nADD ssh://git@127.0.0.1/team/repo.git /x\n'), 'git-ssh-needs-agent', /needs an ssh agent/);
  const closed = `http://127.0.0.1:${await freePort()}/r.git`;
  failsWith(await build(`FROM busybox\nADD ${closed} /x\n`), 'git-failed', new RegExp(`${closed}: git ls-remote failed: `));
  failsWith(await build(`FROM busybox\nADD ${git}#v1:nope /x\n`), 'git-no-subdir', /subdirectory "nope" not found/);
});

test('over smart HTTP (git http-backend) a ref is fetched shallow, a commit sha too', async () => {
  const { tag } = await built(`FROM busybox\nADD --keep-git-dir ${smartGit}#v1 /k/\nADD ${smartGit}#${commits.c1} /c\n`);
  assert.equal(await shIn(tag, 'cat /k/sub/b.txt /c/a.txt; test -f /k/.git/shallow && echo shallow'), 'bee\none\nshallow\n');
});

test('over git:// (git daemon): a tag and a subdir', async () => {
  const port = await freePort();
  const daemon = spawn('git', ['daemon', '--reuseaddr', '--listen=127.0.0.1', `--port=${port}`, `--base-path=${join(work, 'repos')}`, '--export-all', join(work, 'repos')], { stdio: 'ignore' });
  try {
    await waitForPort(port);
    const { tag } = await built(`FROM busybox\nADD git://127.0.0.1:${port}/repo.git#v1:sub /g/\n`);
    assert.equal(await shIn(tag, 'cat /g/b.txt'), 'bee\n');
  } finally {
    daemon.kill();
  }
});

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => resolve(true)).on('error', () => resolve(false));
      s.unref();
      setTimeout(() => s.destroy(), 1000);
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

// An sshd of the test's own on 127.0.0.1 taking one key, which only the build's agent holds
// (BuildKit forwards the `--ssh default` agent to git: source/git/source.go mountSSHAuthSock).
test('over ssh:// with the build\'s --ssh default agent', async () => {
  const dir = join(work, 'ssh');
  await mkdir(dir);
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')), { mode: 0o600 });
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PidFile none',
  ].join('\n');
  await writeFile(join(dir, 'sshd_config'), config + '\n');
  await mkdir('/run/sshd', { recursive: true }); // sshd's privilege separation directory
  const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
  const sock = join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  try {
    await waitForPort(port);
    for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
    await exec('ssh-add', [join(dir, 'client_key')], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
    const url = `ssh://root@127.0.0.1:${port}${bare}#v1:sub`;
    const { tag } = await built(`FROM busybox\nADD ${url} /s/\n`, { env: { SSH_AUTH_SOCK: sock }, args: ['--ssh', 'default'] });
    assert.equal(await shIn(tag, 'cat /s/b.txt'), 'bee\n');
    // Without the agent the same source is the one-line error.
    failsWith(await build(`FROM busybox\nADD ${url} /s/\n`), 'git-ssh-needs-agent', /needs an ssh agent/);
  } finally {
    sshd.kill();
    agent.kill();
  }
});

// BuildKit checks out submodules unless `?submodules=false` (source/git/source.go).
test('submodules are checked out (without their .git), unless ?submodules=false', async () => {
  const lib = join(work, 'lib-src');
  await writeTree(lib, { 'lib.txt': 'library\n' });
  await gitIn(lib, 'init', '-q', '-b', 'main');
  await gitIn(lib, 'add', '.');
  await gitIn(lib, 'commit', '-q', '-m', 'lib');
  await gitIn(work, 'clone', '-q', '--bare', lib, join(work, 'repos', 'lib.git'));
  await gitIn(join(work, 'repos', 'lib.git'), 'update-server-info');
  const app = join(work, 'app-src');
  await writeTree(app, { 'app.txt': 'app\n' });
  await gitIn(app, 'init', '-q', '-b', 'main');
  await gitIn(app, 'submodule', 'add', '-q', `${srv.url}/git/lib.git`, 'vendor/lib');
  await gitIn(app, 'add', '.');
  await gitIn(app, 'commit', '-q', '-m', 'app');
  await gitIn(work, 'clone', '-q', '--bare', app, join(work, 'repos', 'app.git'));
  await gitIn(join(work, 'repos', 'app.git'), 'update-server-info');
  const url = `${srv.url}/git/app.git`;
  const { tag } = await built(`FROM busybox\nADD ${url} /a\nADD ${url}?submodules=false /b\n`);
  assert.equal(await shIn(tag, 'cat /a/vendor/lib/lib.txt; ls -A /a/vendor/lib; ls -A /b/vendor/lib; test ! -e /a/.git && echo no-git'), 'library\nlib.txt\nno-git\n');
  // A submodule on this machine's disk (file://) is not fetched: the repository does not choose what the build reads.
  const sneaky = join(work, 'sneaky-src');
  await writeTree(sneaky, { 'x.txt': 'x\n' });
  await gitIn(sneaky, 'init', '-q', '-b', 'main');
  await gitIn(sneaky, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', `file://${gitSrc}`, 'local');
  await gitIn(sneaky, 'commit', '-q', '-am', 'sneaky');
  await gitIn(work, 'clone', '-q', '--bare', sneaky, join(work, 'repos', 'sneaky.git'));
  await gitIn(join(work, 'repos', 'sneaky.git'), 'update-server-info');
  failsWith(await build(`FROM busybox\nADD ${srv.url}/git/sneaky.git /s\n`), 'git-failed', /git submodule update failed: .*transport 'file' not allowed/);
});
