import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { lstat, readFile, readlink, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { runCli } from '../../cli/tsbuild.js';
import { tempDir } from '../helpers/temp.js';
import { writeTree } from '../helpers/files.js';
import { readLayoutImage, saveAndUnpack } from '../helpers/unpack.js';

const exec = promisify(execFile);

// One build exercising Docker's COPY/ADD rules and the metadata instructions, checked by
// unpacking the saved image with umoci and reading its config.
const dockerfile = `# syntax=docker/dockerfile:1
FROM scratch
ARG VERSION=1.2
ENV APP_HOME=/srv/app \\
    GREETING="hello world"
LABEL org.example.version=$VERSION maintainer="me <me@example.org>"
WORKDIR $APP_HOME
COPY dir/ /dst/
COPY dir /dst2
COPY file.txt /newdir/
COPY file.txt renamed.txt
COPY *.md /docs/
COPY --chown=1000:1001 --chmod=640 file.txt /owned.txt
COPY link /link
ADD archive.tar.gz /extracted/
COPY archive.tar.gz /not-extracted/
USER 1000:1000
EXPOSE 80 443/udp
VOLUME ["/data"]
STOPSIGNAL SIGINT
ENTRYPOINT ["/bin/app"]
CMD ["--serve"]
HEALTHCHECK --interval=5s --retries=2 CMD ["/bin/app", "--health"]
`;

let root: string;
let bundle: string;
let config: Awaited<ReturnType<typeof readLayoutImage>>['config'];

before(async () => {
  const work = await tempDir();
  root = join(work, 'root');
  const ctx = join(work, 'ctx');
  await writeTree(ctx, {
    Dockerfile: dockerfile,
    'dir/a': 'a\n',
    'dir/sub/b': 'b\n',
    'dir/sub/to-b': { link: 'b' },
    'file.txt': 'file\n',
    'readme.md': 'top-level md\n',
    'sub/nested.md': 'not matched by *.md\n',
    link: { link: 'file.txt' },
    'ignored.log': 'never sent\n',
    '.dockerignore': '*.log\n',
    'payload/inside.txt': 'from the archive\n',
  });
  await exec('tar', ['-czf', join(ctx, 'archive.tar.gz'), '-C', join(ctx, 'payload'), 'inside.txt']);
  const built = await runCli(['build', '-q', '-t', 'semantics', ctx], { root });
  assert.equal(built.code, 0, built.stderr);
  const saved = await saveAndUnpack(root, 'semantics', work);
  bundle = saved.bundle;
  config = (await readLayoutImage(saved.layout)).config;
});

const rootfs = () => join(bundle, 'rootfs');

test('COPY of a directory copies its contents, not the directory', async () => {
  assert.equal(await readFile(join(rootfs(), 'dst/a'), 'utf8'), 'a\n');
  assert.equal(await readFile(join(rootfs(), 'dst/sub/b'), 'utf8'), 'b\n');
  assert.equal(await readFile(join(rootfs(), 'dst2/a'), 'utf8'), 'a\n');
  await assert.rejects(lstat(join(rootfs(), 'dst/dir')));
});

test('a destination ending in / is a directory; otherwise the file is renamed, relative to WORKDIR', async () => {
  assert.equal(await readFile(join(rootfs(), 'newdir/file.txt'), 'utf8'), 'file\n');
  assert.equal(await readFile(join(rootfs(), 'srv/app/renamed.txt'), 'utf8'), 'file\n');
});

test('wildcards match at the context root only', async () => {
  assert.deepEqual(await readdir(join(rootfs(), 'docs')), ['readme.md']);
});

test('--chown and --chmod set owner and mode', async () => {
  const st = await lstat(join(rootfs(), 'owned.txt'));
  assert.equal(st.uid, 1000);
  assert.equal(st.gid, 1001);
  assert.equal(st.mode & 0o7777, 0o640);
});

test('a symlink inside a copied dir stays a link; a symlink named as the source is followed (BuildKit)', async () => {
  assert.equal(await readlink(join(rootfs(), 'dst/sub/to-b')), 'b');
  assert.ok((await lstat(join(rootfs(), 'link'))).isFile());
  assert.equal(await readFile(join(rootfs(), 'link'), 'utf8'), 'file\n');
});

test('ADD extracts a local tar archive; COPY does not', async () => {
  assert.equal(await readFile(join(rootfs(), 'extracted/inside.txt'), 'utf8'), 'from the archive\n');
  assert.ok((await lstat(join(rootfs(), 'not-extracted/archive.tar.gz'))).isFile());
});

test('.dockerignored files never reach the image', async () => {
  await assert.rejects(lstat(join(rootfs(), 'srv/app/ignored.log')));
});

test('history has one entry per instruction that Docker records, empty_layer for config-only ones', () => {
  const byCommand = config.history.map((h) => [h.created_by, h.empty_layer === true]);
  assert.deepEqual(byCommand.slice(0, 3), [
    ['ENV APP_HOME=/srv/app GREETING=hello world', true],
    ['LABEL org.example.version=1.2 maintainer=me <me@example.org>', true],
    ['WORKDIR /srv/app', false],
  ]);
  assert.ok(byCommand.some(([c, e]) => c === 'COPY dir/ /dst/ # buildkit' && e === false));
  assert.ok(byCommand.some(([c, e]) => c === 'CMD ["--serve"]' && e === true));
  const layers = config.history.filter((h) => !h.empty_layer).length;
  assert.equal(layers, config.rootfs.diff_ids.length);
});

test('metadata instructions are recorded in the image config as Docker records them', () => {
  const c = config.config;
  assert.deepEqual(c.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP_HOME=/srv/app', 'GREETING=hello world']);
  assert.deepEqual(c.Labels, { 'org.example.version': '1.2', maintainer: 'me <me@example.org>' });
  assert.equal(c.WorkingDir, '/srv/app');
  assert.equal(c.User, '1000:1000');
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '443/udp': {} });
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.equal(c.StopSignal, 'SIGINT');
  assert.deepEqual(c.Entrypoint, ['/bin/app']);
  assert.deepEqual(c.Cmd, ['--serve']);
  assert.deepEqual(c.Healthcheck, { Test: ['CMD', '/bin/app', '--health'], Interval: 5_000_000_000, Retries: 2 });
});
