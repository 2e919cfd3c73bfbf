import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, link, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../common/index.js';
import { readTar, testStore, type TarItem } from '../helpers/layer-tar.js';
import type { Store } from '../../store/index.js';
import { writeCopyLayer, type CopyLayerOptions } from '../../executor/copy.js';
import { parseDockerignore } from '../../context/index.js';
import { writeTree, type Tree } from '../helpers/files.js';

let tmp: string;
let store: Store;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tsbuild-copy-'));
  store = await testStore(join(tmp, 'store'));
});
after(async () => rm(tmp, { recursive: true, force: true }));

let n = 0;
async function tree(files: Tree): Promise<string> {
  const root = join(tmp, `t${n++}`);
  await mkdir(root);
  await writeTree(root, files);
  return root;
}

const base = (sourceRoot: string, o: Partial<CopyLayerOptions>): CopyLayerOptions => ({
  sourceRoot, fromContext: true, sources: [], dest: '/', workdir: '/', isAdd: false, ...o,
});

async function layer(o: CopyLayerOptions) {
  const r = await writeCopyLayer(store, o);
  const bytes = await readFile(store.blobPath(r.diffId));
  return { r, bytes, items: readTar(bytes) };
}
const names = (items: TarItem[]) => items.map((i) => i.name);

test('COPY a file into a dir (trailing slash) creates the parents; diff_id is the sha256 of the tar', async () => {
  const root = await tree({ 'hello.txt': 'hi\n' });
  const { r, bytes, items } = await layer(base(root, { sources: ['hello.txt'], dest: '/app/bin/' }));
  assert.deepEqual(names(items), ['app/', 'app/bin/', 'app/bin/hello.txt']);
  assert.equal(r.diffId, 'sha256:' + createHash('sha256').update(bytes).digest('hex'));
  assert.deepEqual([r.size, r.contentBytes, r.entries], [bytes.length, 3, 3]);
  const f = items[2];
  assert.deepEqual([f.type, f.uid, f.gid, f.uname, f.gname, f.body.toString()], ['0', 0, 0, '', '', 'hi\n']);
  assert.deepEqual([items[0].type, items[0].mode], ['5', 0o755]);
});

test('COPY a file to a path without a slash names the file', async () => {
  const root = await tree({ 'a.txt': 'x' });
  assert.deepEqual(names((await layer(base(root, { sources: ['a.txt'], dest: '/etc/b.conf' }))).items), ['etc/', 'etc/b.conf']);
});

test('COPY of a directory copies its contents, not the directory', async () => {
  const root = await tree({ 'dir/a': '1', 'dir/sub/b': '2' });
  assert.deepEqual(names((await layer(base(root, { sources: ['dir'], dest: '/dst' }))).items), ['dst/', 'dst/a', 'dst/sub/', 'dst/sub/b']);
});

// The Dockerfile reference (frontend/dockerfile/docs/reference.md, "COPY"): with several
// sources, directly or by a wildcard, the destination must be a directory ending in "/".
// BuildKit does not check it (each copy overwrites the last); the message is Docker's.
test('several sources into a new destination without a trailing slash are an error, not a directory', async () => {
  const root = await tree({ a: '1', b: '2', 'w1.txt': '', 'w2.txt': '' });
  const message = 'When using COPY with more than one source file, the destination must be a directory and end with a /';
  for (const sources of [['a', 'b'], ['w*.txt']]) {
    await assert.rejects(layer(base(root, { sources, dest: '/d' })), (e: unknown) => e instanceof UserError && e.code === 'copy-dest-needs-slash' && e.message === message);
  }
  assert.deepEqual(names((await layer(base(root, { sources: ['a', 'b'], dest: '/d/' }))).items), ['d/', 'd/a', 'd/b']);
});

test('several sources into a directory the image already has need no trailing slash', async () => {
  const root = await tree({ a: '1', b: '2' });
  const img = await tree({ 'usr/bin': { dir: true } });
  assert.deepEqual(names((await layer(base(root, { sources: ['a', 'b'], dest: '/usr/bin', destRoot: img }))).items), ['usr/', 'usr/bin/', 'usr/bin/a', 'usr/bin/b']);
});

// BuildKit's COPY sets AllowEmptyWildcard (dockerfile2llb/convert_copy.go); a wildcard with
// no match copies nothing and makes no destination (solver/llbsolver/file/backend.go docopy).
// `**` is not special: fsutil's ResolveWildcards matches each component with filepath.Match.
test('a ** wildcard that matches nothing copies nothing and is no error; ** matches one component', async () => {
  const root = await tree({ 'e/a/b/csub/x.txt': 'x', 'e/a/csub/y.txt': 'y' });
  assert.deepEqual(names((await layer(base(root, { sources: ['e/**/**/*sub/*.md'], dest: '/' }))).items), []);
  assert.deepEqual(names((await layer(base(root, { sources: ['nomatch*'], dest: '/new/' }))).items), []);
  assert.deepEqual(names((await layer(base(root, { sources: ['e/**/**/*sub/*.txt'], dest: '/o/' }))).items), ['o/', 'o/x.txt']);
});

test('a relative destination is relative to WORKDIR; "." is a directory', async () => {
  const root = await tree({ a: '1' });
  assert.deepEqual(names((await layer(base(root, { sources: ['a'], dest: '.', workdir: '/srv/app' }))).items), ['srv/', 'srv/app/', 'srv/app/a']);
  assert.deepEqual(names((await layer(base(root, { sources: ['a'], dest: 'x/y', workdir: '/w' }))).items), ['w/', 'w/x/', 'w/x/y']);
});

test('entries come in walk order with byte-ordered names', async () => {
  const root = await tree({ 'd/b': '', 'd/a/z': '', 'd/a-b': '', 'd/B': '' });
  assert.deepEqual(names((await layer(base(root, { sources: ['d'], dest: '/' }))).items), ['B', 'a/', 'a/z', 'a-b', 'b']);
});

test('--chown=uid:gid owns the files and the created parents (BuildKit)', async () => {
  const root = await tree({ 'd/f': 'x' });
  const { items } = await layer(base(root, { sources: ['d'], dest: '/opt/d/', chown: '1000:1001' }));
  assert.deepEqual(items.map((i) => [i.name, i.uid, i.gid]), [['opt/', 1000, 1001], ['opt/d/', 1000, 1001], ['opt/d/f', 1000, 1001]]);
});

test('--chown=uid alone uses the uid as gid', async () => {
  const root = await tree({ f: 'x' });
  const { items } = await layer(base(root, { sources: ['f'], dest: '/f', chown: '42' }));
  assert.deepEqual([items[0].uid, items[0].gid], [42, 42]);
});

test('--chown by name reads the destination rootfs /etc/passwd and /etc/group', async () => {
  const root = await tree({ f: 'x' });
  const img = await tree({ 'etc/passwd': 'root:x:0:0::/root:/bin/sh\napp:x:1500:1600::/app:/bin/sh\n', 'etc/group': 'root:x:0:\nstaff:x:50:\n' });
  const a = await layer(base(root, { sources: ['f'], dest: '/f', chown: 'app', destRoot: img }));
  assert.deepEqual([a.items[0].uid, a.items[0].gid], [1500, 1600]);
  const b = await layer(base(root, { sources: ['f'], dest: '/f', chown: 'app:staff', destRoot: img }));
  assert.deepEqual([b.items[0].uid, b.items[0].gid], [1500, 50]);
  await assert.rejects(layer(base(root, { sources: ['f'], dest: '/f', chown: 'nobody', destRoot: img })), (e: unknown) => e instanceof UserError && e.code === 'unknown-user');
});

test('--chmod octal applies to files and directories; symbolic modes apply to each mode', async () => {
  const root = await tree({ 'd/f': 'x', 'd/s/g': 'y' });
  await chmod(join(root, 'd/f'), 0o600);
  const a = await layer(base(root, { sources: ['d'], dest: '/x/', chmod: '640' }));
  assert.deepEqual(a.items.map((i) => [i.name, i.mode]), [['x/', 0o755], ['x/f', 0o640], ['x/s/', 0o640], ['x/s/g', 0o640]]);
  const b = await layer(base(root, { sources: ['d'], dest: '/x/', chmod: 'go+rX' }));
  assert.deepEqual(b.items.map((i) => [i.name, i.mode]), [['x/', 0o755], ['x/f', 0o644], ['x/s/', 0o755], ['x/s/g', 0o644]]);
  await assert.rejects(layer(base(root, { sources: ['d'], dest: '/x/', chmod: '999' })), (e: unknown) => e instanceof UserError && e.code === 'copy-bad-chmod');
});

test('an existing destination directory in the image receives the file, keeping its metadata', async () => {
  const root = await tree({ a: '1' });
  const img = await tree({ 'srv/data': { dir: true } });
  await chmod(join(img, 'srv/data'), 0o700);
  execFileSync('chown', ['7:8', join(img, 'srv/data')]);
  const { items } = await layer(base(root, { sources: ['a'], dest: '/srv/data', destRoot: img }));
  assert.deepEqual(items.map((i) => [i.name, i.mode, i.uid]), [['srv/', 0o755, 0], ['srv/data/', 0o700, 7], ['srv/data/a', 0o644, 0]]);
});

test('the destination is resolved through the image symlinks (merged /usr)', async () => {
  const root = await tree({ tool: '#!' });
  const img = await tree({ 'usr/bin': { dir: true }, bin: { link: 'usr/bin' } });
  assert.deepEqual(names((await layer(base(root, { sources: ['tool'], dest: '/bin/', destRoot: img }))).items), ['usr/', 'usr/bin/', 'usr/bin/tool']);
});

test('a directory cannot be copied onto an existing file', async () => {
  const root = await tree({ 'd/a': '' });
  const img = await tree({ x: 'file' });
  await assert.rejects(layer(base(root, { sources: ['d'], dest: '/x', destRoot: img })), (e: unknown) => e instanceof UserError && e.code === 'copy-dest-not-dir');
});

test('a missing source fails with Docker\'s message', async () => {
  const root = await tree({});
  await assert.rejects(layer(base(root, { sources: ['nope'], dest: '/' })), (e: unknown) => e instanceof UserError && e.code === 'copy-source-missing' && e.message === '"/nope": not found');
});

test('.dockerignored files never enter the layer', async () => {
  const root = await tree({ 'a.txt': '', 'secret.key': '', 'sub/b.key': '' });
  const { items } = await layer(base(root, { sources: ['.'], dest: '/c/', ignore: parseDockerignore('*.key') }));
  assert.deepEqual(names(items), ['c/', 'c/a.txt', 'c/sub/', 'c/sub/b.key']);
});

test('--exclude and --parents', async () => {
  const root = await tree({ 'a/b/c.txt': '1', 'a/b/d.md': '2', 'x/./y': { dir: true }, 'x/y/z.txt': '3' });
  assert.deepEqual(names((await layer(base(root, { sources: ['a'], dest: '/o/', excludes: ['**/*.md'] }))).items), ['o/', 'o/b/', 'o/b/c.txt']);
  assert.deepEqual(names((await layer(base(root, { sources: ['a/b/c.txt', 'x/./y/z.txt'], dest: '/p/', parents: true }))).items), ['p/', 'p/a/', 'p/a/b/', 'p/a/b/c.txt', 'p/y/', 'p/y/z.txt']);
});

// frontend/dockerfile/docs/reference.md "COPY --parents" and dockerfile2llb/convert_copy.go:
// without a `/./` pivot the path is kept from the context root (`./a/b` keeps a/b); `.` and a
// pivot with nothing after it copy the directory's contents.
test('--parents with ./ sources keeps their paths; ".", "./" and "x/./" copy contents (regression: [internal] bad layer path "parents/.")', async () => {
  const root = await tree({ 'a/b/f': '1', 'c/g': '2', 'x/y/z': '3' });
  const copy = async (sources: string[]) => names((await layer(base(root, { sources, dest: '/dst/', parents: true }))).items);
  assert.deepEqual(await copy(['./a/b', './c']), ['dst/', 'dst/a/', 'dst/a/b/', 'dst/a/b/f', 'dst/c/', 'dst/c/g']);
  assert.deepEqual(await copy(['./x/./y/z']), ['dst/', 'dst/y/', 'dst/y/z']);
  assert.deepEqual(await copy(['/./c']), ['dst/', 'dst/c/', 'dst/c/g']);
  assert.deepEqual(await copy(['x/./']), ['dst/', 'dst/y/', 'dst/y/z']);
  for (const dot of ['.', './']) {
    assert.deepEqual(await copy([dot]), ['dst/', 'dst/a/', 'dst/a/b/', 'dst/a/b/f', 'dst/c/', 'dst/c/g', 'dst/x/', 'dst/x/y/', 'dst/x/y/z']);
  }
});

test('COPY <<EOF heredocs become 0644 files with their content', async () => {
  const root = await tree({});
  const { items } = await layer(base(root, { inline: [{ name: 'run.sh', content: 'echo hi\n' }], dest: '/usr/local/bin/', chmod: '755' }));
  assert.deepEqual(items.map((i) => [i.name, i.mode]), [['usr/', 0o755], ['usr/local/', 0o755], ['usr/local/bin/', 0o755], ['usr/local/bin/run.sh', 0o755]]);
  const plain = await layer(base(root, { inline: [{ name: 'f', content: 'x' }], dest: '/f' }));
  assert.deepEqual([plain.items[0].mode, plain.items[0].body.toString()], [0o644, 'x']);
});

test('WORKDIR (mkdirOnly) writes just the directory chain', async () => {
  const root = await tree({});
  assert.deepEqual(names((await layer(base(root, { dest: '/a/b', mkdirOnly: true }))).items), ['a/', 'a/b/']);
});

const archives: { name: string; flag: string; file: string }[] = [
  { name: 'gzip', flag: '-z', file: 'a.tar.gz' },
  { name: 'bzip2', flag: '-j', file: 'a.tbz' },
  { name: 'xz', flag: '-J', file: 'a.tar.xz' },
  { name: 'uncompressed', flag: '', file: 'a.tar' },
  { name: 'gzip with a misleading name', flag: '-z', file: 'notes.txt' },
];
for (const a of archives)
  test(`ADD extracts a ${a.name} tar archive (detected by content), COPY does not`, async () => {
    const src = await tree({ 'top/f.txt': 'in archive', 'top/sub/g': 'g' });
    await symlink('f.txt', join(src, 'top/l'));
    await link(join(src, 'top/f.txt'), join(src, 'top/hard'));
    const root = await tree({});
    execFileSync('tar', ['-c', ...(a.flag ? [a.flag] : []), '-f', join(root, a.file), '-C', src, 'top']);
    const add = await layer(base(root, { sources: [a.file], dest: '/x', isAdd: true }));
    assert.deepEqual(names(add.items), ['x/', 'x/top/', 'x/top/f.txt', 'x/top/hard', 'x/top/l', 'x/top/sub/', 'x/top/sub/g']);
    const byName = new Map(add.items.map((i) => [i.name, i]));
    assert.equal(byName.get('x/top/f.txt')!.body.toString(), 'in archive');
    assert.deepEqual([byName.get('x/top/hard')!.type, byName.get('x/top/hard')!.linkname], ['1', 'x/top/f.txt']);
    assert.deepEqual([byName.get('x/top/l')!.type, byName.get('x/top/l')!.linkname], ['2', 'f.txt']);
    const copy = await layer(base(root, { sources: [a.file], dest: '/x' }));
    assert.deepEqual(names(copy.items), ['x']);
  });

// BuildKit unpacks with go-archive's chrootarchive.Untar, chrooted at the destination
// (solver/llbsolver/file/unpack.go): an entry below a symlink the archive made goes through
// it, and `..` cannot climb above the destination; the symlink and its owner stay.
test('ADD of a tar whose entries go through its own symlink writes through it, keeping the link and its owner', async () => {
  const root = await tree({});
  execFileSync('python3', ['-c', `import tarfile,io
t=tarfile.open('${join(root, 'links.tar')}','w')
l=tarfile.TarInfo('symldir1'); l.type=tarfile.SYMTYPE; l.linkname='..'; l.uid=1000; l.gid=1000; t.addfile(l)
a=tarfile.TarInfo('abs'); a.type=tarfile.SYMTYPE; a.linkname='/sub'; t.addfile(a)
for name in ('symldir1/etc/myfile', 'abs/deep'):
  f=tarfile.TarInfo(name); body=name.encode(); f.size=len(body); t.addfile(f, io.BytesIO(body))
t.close()`]);
  const { items } = await layer(base(root, { sources: ['links.tar'], dest: '/x/', isAdd: true }));
  const byName = new Map(items.map((i) => [i.name, i]));
  const link = byName.get('x/symldir1');
  assert.deepEqual([link?.type, link?.linkname, link?.uid, link?.gid], ['2', '..', 1000, 1000], 'the symlink stays, with its owner');
  assert.equal(byName.get('x/etc/myfile')?.body.toString(), 'symldir1/etc/myfile', '.. from the destination stays in it');
  assert.equal(byName.get('x/sub/deep')?.body.toString(), 'abs/deep', 'an absolute link is taken from the destination');
  assert.ok(![...byName.keys()].some((n) => n.startsWith('x/symldir1/') || n.startsWith('x/abs/')), names(items).join(' '));
});

test('ADD of a gzip file that is not a tar copies it as it is', async () => {
  const root = await tree({});
  execFileSync('sh', ['-c', `echo plain | gzip > ${join(root, 'p.gz')}`]);
  assert.deepEqual(names((await layer(base(root, { sources: ['p.gz'], dest: '/', isAdd: true }))).items), ['p.gz']);
});

test('ADD refuses an archive entry that climbs out of the destination', async () => {
  const root = await tree({});
  execFileSync('python3', ['-c', `import tarfile,io
t=tarfile.open('${join(root, 'evil.tar')}','w')
i=tarfile.TarInfo('../../etc/evil'); d=b'x'; i.size=1; t.addfile(i, io.BytesIO(d)); t.close()`]);
  await assert.rejects(layer(base(root, { sources: ['evil.tar'], dest: '/x/', isAdd: true })), (e: unknown) => e instanceof UserError && e.code === 'add-archive-unsafe');
});

test('hardlinks are link entries, long and non-ASCII names use PAX, xattrs are kept', async () => {
  const long = 'd/' + 'n'.repeat(120) + '/ünï.txt';
  const root = await tree({ 'd/a': 'same', [long]: 'long' });
  await link(join(root, 'd/a'), join(root, 'd/z'));
  execFileSync('setfattr', ['-n', 'user.note', '-v', '0x00ff10', join(root, 'd/a')]);
  const { items } = await layer(base(root, { sources: ['d'], dest: '/' }));
  const byName = new Map(items.map((i) => [i.name, i]));
  assert.deepEqual([byName.get('z')!.type, byName.get('z')!.linkname, byName.get('z')!.size], ['1', 'a', 0]);
  assert.deepEqual(byName.get('a')!.xattrs['user.note'], Buffer.from([0x00, 0xff, 0x10]));
  assert.equal(byName.get(long.slice(2))!.body.toString(), 'long');
});

test('COPY from a stage keeps owners and device files', async () => {
  const root = await tree({ 'dev/x': { dir: true }, f: 'x' });
  execFileSync('mknod', [join(root, 'dev/null1'), 'c', '1', '3']);
  execFileSync('chown', ['33:44', join(root, 'f')]);
  const { items } = await layer(base(root, { fromContext: false, sources: ['dev', 'f'], dest: '/out/' }));
  const byName = new Map(items.map((i) => [i.name, i]));
  assert.deepEqual([byName.get('out/null1')!.type, byName.get('out/null1')!.devmajor, byName.get('out/null1')!.devminor], ['3', 1, 3]);
  assert.deepEqual([byName.get('out/f')!.uid, byName.get('out/f')!.gid], [33, 44]);
});

test('SOURCE_DATE_EPOCH clamps mtimes and makes layers byte-identical across copies', async () => {
  const a = await tree({ 'd/f': 'same' });
  const b = await tree({ 'd/f': 'same' });
  await utimes(join(b, 'd/f'), 1e9, 1e9 + 5);
  const la = await layer(base(a, { sources: ['d'], dest: '/x/', sourceDateEpoch: 1000 }));
  const lb = await layer(base(b, { sources: ['d'], dest: '/x/', sourceDateEpoch: 1000 }));
  assert.equal(la.r.diffId, lb.r.diffId);
  assert.ok(la.items.every((i) => i.mtime === 1000));
});

test('GNU tar reads the layer back to the same tree', async () => {
  const root = await tree({ 'd/a': 'A', 'd/s/b': 'B', 'd/l': { link: 'a' } });
  const { r } = await layer(base(root, { sources: ['d'], dest: '/out/' }));
  const x = join(tmp, `x${n++}`);
  await mkdir(x);
  execFileSync('tar', ['-xf', store.blobPath(r.diffId), '-C', x]);
  assert.equal(await readFile(join(x, 'out/s/b'), 'utf8'), 'B');
  assert.equal(execFileSync('readlink', [join(x, 'out/l')]).toString().trim(), 'a');
});

test('COPY --from a stage without layers (scratch) finds nothing: a path is missing, a wildcard matches nothing', async () => {
  await assert.rejects(
    writeCopyLayer(store, { sourceRoot: undefined, fromContext: false, sources: ['/app/bin'], dest: '/', workdir: '/', isAdd: false }),
    (e: unknown) => e instanceof UserError && e.code === 'copy-source-missing' && e.message === '"/app/bin": not found',
  );
  const r = await writeCopyLayer(store, { sourceRoot: undefined, fromContext: false, sources: ['/app/*.so'], dest: '/lib/', workdir: '/', isAdd: false });
  assert.deepEqual(names(readTar(await readFile(store.blobPath(r.diffId)))), [], 'a wildcard may match nothing there too');
});

test('COPY into an existing directory named like the file source', async () => {
  const root = await tree({ conf: 'x' });
  const img = await tree({ 'etc/conf': { dir: true } });
  await assert.rejects(layer(base(root, { sources: ['conf'], dest: '/etc/', destRoot: img })), (e: unknown) => e instanceof UserError && e.code === 'copy-replace-dir');
});

test('big files are streamed into the layer byte for byte', async () => {
  const root = await tree({});
  const { randomBytes } = await import('node:crypto');
  const data = randomBytes(3 * 1024 * 1024 + 17);
  await writeFile(join(root, 'big.bin'), data);
  const { items, r } = await layer(base(root, { sources: ['big.bin'], dest: '/big.bin' }));
  assert.equal(items[0].size, data.length);
  assert.ok(items[0].body.equals(data));
  assert.equal(r.contentBytes, data.length);
});

test('a source that changes size while the layer is written is an error, not a corrupt tar', async () => {
  const root = await tree({ 'f.txt': 'short', 'big.bin': 'x'.repeat(200000) });
  const { selectSources } = await import('../../context/index.js');
  const selection = await selectSources(root, ['f.txt', 'big.bin'], { what: 'build context' });
  await writeFile(join(root, 'f.txt'), 'much longer now');
  await assert.rejects(layer(base(root, { sources: ['f.txt', 'big.bin'], dest: '/d/', selection })), (e: unknown) => e instanceof UserError && e.code === 'layer-source-changed');
  await writeFile(join(root, 'f.txt'), 'short');
  await writeFile(join(root, 'big.bin'), 'x'.repeat(100));
  await assert.rejects(layer(base(root, { sources: ['f.txt', 'big.bin'], dest: '/d/', selection })), (e: unknown) => e instanceof UserError && e.code === 'layer-source-changed');
});

test('a COPY of 300 files of every size has every file whole and in walk order, hardlinks and empty files included', async () => {
  const root = await tree({});
  const { randomBytes } = await import('node:crypto');
  const want = new Map<string, Buffer>();
  // sizes from 0 to past the 1 MiB limit of files read whole
  const sizes = [0, 1, 511, 512, 1500, 65536, 65537, 300_000, (1 << 20) + 1];
  for (let i = 0; i < 300; i++) {
    const name = `d${i % 7}/f${String(i).padStart(3, '0')}`;
    const data = randomBytes(sizes[i % sizes.length]);
    await mkdir(join(root, 'src', `d${i % 7}`), { recursive: true });
    await writeFile(join(root, 'src', name), data);
    want.set(`src/${name}`, data);
  }
  await link(join(root, 'src/d0/f000'), join(root, 'src/d0/zz-link'));
  const { items } = await layer(base(root, { sources: ['src'], dest: '/src' }));
  const files = items.filter((i) => i.type === '0');
  assert.deepEqual(files.map((f) => f.name), [...want.keys()].sort((a, b) => (a.replace(/\//g, '\0') < b.replace(/\//g, '\0') ? -1 : 1)));
  for (const f of files) assert.ok(f.body.equals(want.get(f.name)!), `bytes of ${f.name}`);
  const hard = items.find((i) => i.name === 'src/d0/zz-link');
  assert.deepEqual([hard?.type, hard?.linkname], ['1', 'src/d0/f000']);
});

test('a tee of the layer gets exactly the blob bytes, and is ended', async () => {
  const root = await tree({ 'dir/a': 'a'.repeat(70000), 'dir/b': 'b', 'dir/sub/c': 'c'.repeat(3 << 20) });
  const { Writable } = await import('node:stream');
  const chunks: Buffer[] = [];
  let isEnded = false;
  const tee = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      setImmediate(cb); // a slow reader: the layer waits for it
    },
    final(cb) {
      isEnded = true;
      cb();
    },
  });
  const { bytes } = await layer(base(root, { sources: ['dir'], dest: '/d', tee }));
  assert.ok(Buffer.concat(chunks).equals(bytes));
  assert.ok(isEnded);
});
