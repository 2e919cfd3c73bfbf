import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { cliPath, runCli } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';

const exec = promisify(execFile);

// `--output` as buildx passes it to BuildKit's exporters (moby/buildkit exporter/local,
// exporter/tar, exporter/oci; docker/buildx util/buildflags/export.go and build/opt.go
// CreateExports for the flag's syntax). Each output is checked by reading what it wrote:
// the directory, `tar -t`, umoci and skopeo.
let work: string;
let root: string;
let files: string;
let busy: string;
let registry: RegistryServer;

before(async () => {
  ({ work, root } = await busyboxWork());
  registry = await startRegistry();
  // The "build a binary with Docker" pattern: a builder stage, and a scratch stage of files only.
  files = join(work, 'files-ctx');
  await writeTree(files, {
    Dockerfile:
      'FROM busybox AS build\n' +
      'RUN mkdir -p /out/sub && echo built > /out/app && chmod 4755 /out/app && ln -s app /out/link && echo s > /out/sub/f && chown 1000:1000 /out/sub/f\n' +
      'FROM scratch\nCOPY --from=build /out/ /\n',
  });
  // An image over busybox that deletes a file: the tar output is the merged filesystem.
  busy = join(work, 'busy-ctx');
  await writeTree(busy, {
    Dockerfile: 'FROM busybox\nRUN rm /bin/ls && echo new > /new && chown 1000:1001 /new\nLABEL from=dockerfile\n',
  });
});

after(async () => {
  await registry.stop();
});

async function build(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) {
  const r = await runCli(['build', '--progress', 'plain', ...args], { root, cwd: work, env: opts.env });
  assert.equal(r.code, 0, r.stderr);
  return r;
}

async function imageNames(): Promise<string[]> {
  const index = JSON.parse(await readFile(join(root, 'oci', 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
  return index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '<none>');
}

async function tarList(path: string): Promise<string[]> {
  const { stdout } = await exec('tar', ['--numeric-owner', '-tvf', path]);
  return stdout.trim().split('\n');
}

test('-o DIR: a FROM scratch stage\'s files land in DIR, owned by the caller, and no image is added to the store', async () => {
  const before = await imageNames();
  const r = await build(['-o', 'out', '-t', 'files-only', files]);
  assert.match(r.stderr, /exporting to client directory/);
  const out = join(work, 'out');
  assert.equal(await readFile(join(out, 'app'), 'utf8'), 'built\n');
  assert.equal(await readFile(join(out, 'sub', 'f'), 'utf8'), 's\n');
  assert.equal(await readlink(join(out, 'link')), 'app');
  const app = await lstat(join(out, 'app'));
  assert.equal(app.mode & 0o7777, 0o4755, 'the setuid bit survives');
  // session/filesync/diffcopy.go: the receiving side owns what it gets.
  assert.equal((await lstat(join(out, 'sub', 'f'))).uid, process.getuid!());
  assert.deepEqual(await imageNames(), before, 'index.json is unchanged: no name, no <none> entry');
  const images = await runCli(['images'], { root });
  assert.doesNotMatch(images.stdout, /files-only/);
});

test('-o DIR merges into an existing directory, replacing what the image has and keeping the rest', async () => {
  const out = join(work, 'merge-out');
  await writeTree(out, { app: 'old\n', 'mine.txt': 'kept\n', link: 'a file where the image has a symlink\n' });
  await build(['-o', `type=local,dest=${out}`, files]);
  assert.equal(await readFile(join(out, 'app'), 'utf8'), 'built\n');
  assert.equal(await readFile(join(out, 'mine.txt'), 'utf8'), 'kept\n');
  assert.equal(await readlink(join(out, 'link')), 'app');
});

test('type=tar: the final filesystem with numeric owners, without the deleted file or any whiteout; SOURCE_DATE_EPOCH sets the times', async () => {
  await build(['-o', 'type=tar,dest=busy.tar', busy], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
  const lines = await tarList(join(work, 'busy.tar'));
  const names = lines.map((l) => l.split(/\s+/).slice(5).join(' '));
  assert.ok(names.includes('new'), names.join('\n'));
  assert.ok(names.includes('bin/busybox'));
  assert.ok(!names.includes('bin/ls'), 'the deleted file is gone');
  assert.ok(!names.some((n) => n.includes('.wh.')), 'no whiteout entries');
  const entry = lines.find((l) => l.endsWith(' new'))!;
  assert.match(entry, /^-rw-r--r-- 1000\/1001 /);
  assert.match(entry, / 2023-11-14 /, 'mtime is SOURCE_DATE_EPOCH');
});

test('-o - writes the tar to stdout', async () => {
  const tarPath = join(work, 'stdout.tar');
  await exec('sh', ['-c', `"$0" build --progress quiet -o - "$1" > "$2"`, cliPath, files, tarPath], { env: { ...process.env, TSBUILD_ROOT: root } });
  const names = (await tarList(tarPath)).map((l) => l.split(/\s+/).slice(5).join(' '));
  assert.deepEqual(names.filter((n) => !n.endsWith('/')).sort(), ['app', 'link -> app', 'sub/f']);
});

test('type=oci: an OCI archive umoci unpacks, with the tag, labels and both kinds of annotation; the store gains no image', async () => {
  const before = await imageNames();
  await build([
    '-o', 'type=oci,dest=busy-oci.tar', '-t', 'busy:1', '--label', 'from=cli',
    '--annotation', 'org.opencontainers.image.title=busy', '--annotation', 'manifest-descriptor:org.example.where=index', busy,
  ]);
  assert.deepEqual(await imageNames(), before);
  const layout = join(work, 'busy-oci');
  await mkdir(layout);
  await exec('tar', ['-xf', join(work, 'busy-oci.tar'), '-C', layout]);
  const bundle = join(work, 'busy-bundle');
  await exec('umoci', ['unpack', '--image', `${layout}:1`, bundle]);
  assert.equal(await readFile(join(bundle, 'rootfs', 'new'), 'utf8'), 'new\n');
  await assert.rejects(lstat(join(bundle, 'rootfs', 'bin', 'ls')));
  const inspect = JSON.parse((await exec('skopeo', ['inspect', `oci-archive:${join(work, 'busy-oci.tar')}:1`])).stdout);
  assert.deepEqual(inspect.Labels, { from: 'cli' }, '--label wins over the Dockerfile\'s LABEL');
  const manifest = JSON.parse((await exec('skopeo', ['inspect', '--raw', `oci:${layout}:1`])).stdout);
  assert.deepEqual(manifest.annotations, { 'org.opencontainers.image.title': 'busy' });
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  assert.equal(index.manifests[0].annotations['org.example.where'], 'index');
  assert.equal(index.manifests[0].annotations['io.containerd.image.name'], 'docker.io/library/busy:1');
});

test('type=oci,tar=false: an OCI layout directory', async () => {
  const dest = join(work, 'layout-dir');
  await build(['-o', `type=oci,dest=${dest},tar=false,name=dir:2`, files]);
  assert.deepEqual((await readdir(dest)).sort(), ['blobs', 'index.json', 'oci-layout']);
  const bundle = join(work, 'dir-bundle');
  await exec('umoci', ['unpack', '--image', `${dest}:2`, bundle]);
  assert.equal(await readFile(join(bundle, 'rootfs', 'app'), 'utf8'), 'built\n');
});

test('type=docker,dest=FILE: a docker archive skopeo reads, named by -t', async () => {
  await build(['-o', 'type=docker,dest=busy-docker.tar', '-t', 'busy:docker', busy]);
  const inspect = JSON.parse((await exec('skopeo', ['inspect', `docker-archive:${join(work, 'busy-docker.tar')}`])).stdout);
  assert.equal(inspect.Labels.from, 'dockerfile');
  const manifest = JSON.parse((await exec('tar', ['-xOf', join(work, 'busy-docker.tar'), 'manifest.json'])).stdout);
  assert.deepEqual(manifest[0].RepoTags, ['busy:docker']);
});

test('type=image,name=N names the image in the store; type=registry pushes it', async () => {
  await build(['-o', 'type=image,name=named-out:1', files]);
  assert.ok((await imageNames()).includes('docker.io/library/named-out:1'));
  const ref = `${registry.host}/pushed-out:1`;
  await build(['-o', `type=registry,name=${ref}`, '--annotation', 'org.example.pushed=yes', files]);
  const raw = JSON.parse((await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout);
  assert.deepEqual(raw.annotations, { 'org.example.pushed': 'yes' }, 'manifest annotations are pushed');
});

test('several outputs at once: a directory and an image', async () => {
  const out = join(work, 'multi-out');
  await build(['-o', out, '-o', 'type=image', '-t', 'multi:1', files]);
  assert.equal(await readFile(join(out, 'app'), 'utf8'), 'built\n');
  assert.ok((await imageNames()).includes('docker.io/library/multi:1'));
});

const bad: { name: string; args: (ctx: string) => string[]; cause: RegExp }[] = [
  { name: 'an unknown type', args: (c) => ['-o', 'type=zip,dest=x', c], cause: /unknown output type "zip"/ },
  { name: 'an unknown attribute', args: (c) => ['-o', 'type=local,dest=x,colour=red', c], cause: /unknown attribute "colour" for type=local/ },
  { name: 'a BuildKit attribute not done yet', args: (c) => ['-o', 'type=image,rewrite-timestamp=true', c], cause: /rewrite-timestamp= is not supported yet/ },
  { name: 'an unknown compression', args: (c) => ['-o', 'type=oci,dest=x,compression=lz4', c], cause: /unsupported compression type lz4/ },
  { name: 'compression of a docker archive', args: (c) => ['-o', 'type=docker,dest=x,compression=zstd', c], cause: /compression= is not supported yet/ },
  { name: 'a non-boolean', args: (c) => ['-o', 'type=oci,dest=x,tar=maybe', c], cause: /tar=maybe is not a boolean/ },
  { name: 'local without dest', args: (c) => ['-o', 'type=local', c], cause: /dest is required for local exporter/ },
  { name: 'a local dest that is a file', args: (c) => ['-o', `type=local,dest=${join(c, 'Dockerfile')}`, c], cause: /destination directory .*Dockerfile is a file/ },
  { name: 'a tar dest that is a directory', args: (c) => ['-o', `type=tar,dest=${c}`, c], cause: /destination file .* is a directory/ },
  { name: 'two outputs to stdout', args: (c) => ['-o', '-', '-o', 'type=oci', c], cause: /multiple outputs configured to write to stdout/ },
  { name: 'an index annotation on a single-platform image', args: (c) => ['--annotation', 'index:a=b', c], cause: /index annotations not supported for single platform export/ },
  { name: 'an unknown annotation type', args: (c) => ['--annotation', 'layer:a=b', c], cause: /unknown annotation type "layer"/ },
  { name: 'an annotation without a value', args: (c) => ['--annotation', 'a', c], cause: /expected key=value/ },
  { name: '--annotation with only a local output', args: (c) => ['-o', 'x', '--annotation', 'a=b', c], cause: /--annotation applies to image, oci and docker outputs/ },
  { name: '--iidfile with a local output', args: (c) => ['-o', 'x', '--iidfile', 'id', c], cause: /local and tar exporters are incompatible with image ID file/ },
  { name: 'type=registry without a name', args: (c) => ['-o', 'type=registry', c], cause: /needs a name to push to/ },
];
for (const c of bad) {
  test(`--output error: ${c.name} is one line, exit 2`, async () => {
    const r = await runCli(['build', ...c.args(files)], { root, cwd: work, input: '' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, c.cause);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
}

test('a tar output to a terminal is refused', async () => {
  await writeFile(join(work, 'tty.sh'), `exec "${cliPath}" build -o - "${files}"\n`);
  // A real pty through script(1): stdout is a terminal.
  const { stdout } = await exec('script', ['-qec', `sh ${join(work, 'tty.sh')}; echo "exit=$?"`, '/dev/null'], { env: { ...process.env, TSBUILD_ROOT: root } });
  assert.match(stdout, /refusing to write to console/);
  assert.match(stdout, /exit=2/);
});
