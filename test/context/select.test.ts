import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError, digestOf } from '../../common/index.js';
import { openStore } from '../../store/index.js';
import { contextStatMemo, hashSelection, literalPattern, loadStatMemo, openContext, parseDockerignore, selectSources, type SelectOptions } from '../../context/index.js';

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tsbuild-context-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let n = 0;
/** A fresh context dir with the given files (content string) and symlinks ({ link: target }). */
async function ctx(files: Tree): Promise<string> {
  const root = join(tmp, `c${n++}`);
  await mkdir(root);
  await writeTree(root, files);
  return root;
}

const opts: SelectOptions = { what: 'build context' };
const paths = (sel: Awaited<ReturnType<typeof selectSources>>) => sel.sources.map((s) => [s.path, s.entries.map((e) => e.subPath)]);

async function rejects(p: Promise<unknown>, code: string, message?: string) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.equal(e.code, code);
    if (message) assert.equal(e.message, message);
    return true;
  });
}

test('openContext reads .dockerignore from the context root', async () => {
  const root = await ctx({ '.dockerignore': 'secret\n', secret: 'x', Dockerfile: 'FROM scratch' });
  const c = await openContext(root);
  assert.equal(c.ignoreFile, join(root, '.dockerignore'));
  assert.equal(c.ignore.isExcluded('secret'), true);
});

test('Dockerfile.dockerignore next to a custom Dockerfile wins over the context .dockerignore', async () => {
  const root = await ctx({ '.dockerignore': 'a\n', 'build/app.Dockerfile': 'FROM scratch', 'build/app.Dockerfile.dockerignore': 'b\n' });
  const c = await openContext(root, { dockerfilePath: join(root, 'build/app.Dockerfile') });
  assert.equal(c.ignoreFile, join(root, 'build/app.Dockerfile.dockerignore'));
  assert.equal(c.ignore.isExcluded('a'), false);
  assert.equal(c.ignore.isExcluded('b'), true);
});

test('openContext without any ignore file excludes nothing', async () => {
  const c = await openContext(await ctx({ x: '1' }));
  assert.equal(c.ignoreFile, undefined);
  assert.equal(c.ignore.isExcluded('x'), false);
});

test('openContext of a missing directory is a UserError', async () => {
  await rejects(openContext(join(tmp, 'nope')), 'context-missing');
});

test('a directory source lists its contents depth-first in byte order', async () => {
  const root = await ctx({ 'd/b': '1', 'd/a/z': '2', 'd/a-b': '3', 'd/A': '4' });
  const sel = await selectSources(root, ['d'], opts);
  assert.deepEqual(paths(sel), [['d', ['', 'A', 'a', 'a/z', 'a-b', 'b']]]);
  assert.equal(sel.sources[0].isDir, true);
});

test('a file source records type, size and mode; context files are owned by 0:0', async () => {
  const root = await ctx({ 'f.sh': 'echo' });
  await chmod(join(root, 'f.sh'), 0o4755);
  const [s] = (await selectSources(root, ['f.sh'], opts)).sources;
  assert.deepEqual([s.entries[0].type, s.entries[0].size, s.entries[0].mode, s.entries[0].uid, s.entries[0].gid], ['file', 4, 0o4755, 0, 0]);
});

test('wildcards are anchored at the root: *.md does not match sub/x.md', async () => {
  const root = await ctx({ 'a.md': '', 'b.md': '', 'sub/x.md': '', 'c.txt': '' });
  assert.deepEqual(paths(await selectSources(root, ['*.md'], opts)), [['a.md', ['']], ['b.md', ['']]]);
});

test('wildcards match per path component', async () => {
  const root = await ctx({ 'a/x.txt': '', 'b/x.txt': '', 'b/y.md': '', 'c/d/x.txt': '' });
  assert.deepEqual(paths(await selectSources(root, ['*/x.txt'], opts)), [['a/x.txt', ['']], ['b/x.txt', ['']]]);
});

test('literalPattern selects exactly a name holding wildcard characters', async () => {
  const root = await ctx({ 'd/a[1]*?\\.txt': '', 'd/a1x.txt': '', 'd/plain.txt': '' });
  assert.deepEqual(paths(await selectSources(root, [literalPattern('d/a[1]*?\\.txt')], opts)), [['d/a[1]*?\\.txt', ['']]]);
  assert.equal(literalPattern('d/plain.txt'), 'd/plain.txt');
});

test('a wildcard matching a directory selects the directory', async () => {
  const root = await ctx({ 'pkg1/a': '', 'pkg2/b': '' });
  assert.deepEqual(paths(await selectSources(root, ['pkg?'], opts)), [['pkg1', ['', 'a']], ['pkg2', ['', 'b']]]);
});

test('../x and /x are confined to the root like Docker', async () => {
  const root = await ctx({ x: 'in' });
  assert.deepEqual(paths(await selectSources(root, ['../x'], opts)), [['x', ['']]]);
  assert.deepEqual(paths(await selectSources(root, ['/x'], opts)), [['x', ['']]]);
  assert.deepEqual(paths(await selectSources(root, ['a/../../../x'], opts)), [['x', ['']]]);
});

test('a symlink source is followed inside the root, keeping its own name', async () => {
  const root = await ctx({ 'real/f': 'data', link: { link: 'real' }, abs: { link: '/real/f' } });
  const sel = await selectSources(root, ['link', 'abs'], opts);
  assert.deepEqual(paths(sel), [['link', ['', 'f']], ['abs', ['']]]);
  assert.equal(sel.sources[1].entries[0].absPath, join(root, 'real/f'));
});

test('symlinks never lead out of the root', async () => {
  const root = await ctx({ out: { link: '/etc/passwd' }, up: { link: '../../../../etc/hostname' } });
  await rejects(selectSources(root, ['out'], opts), 'copy-source-missing', '"/out": not found');
  await rejects(selectSources(root, ['up'], opts), 'copy-source-missing', '"/up": not found');
});

test('symlinks inside a copied directory are kept as symlinks with their targets', async () => {
  const root = await ctx({ 'd/l': { link: '/etc/passwd' } });
  const [s] = (await selectSources(root, ['d'], opts)).sources;
  assert.deepEqual([s.entries[1].type, s.entries[1].linkTarget], ['symlink', '/etc/passwd']);
});

test('a missing source is copy-source-missing with Docker\'s message', async () => {
  const root = await ctx({ a: '' });
  await rejects(selectSources(root, ['a', 'nope/x'], opts), 'copy-source-missing', '"/nope/x": not found');
});

// BuildKit's COPY sets AllowEmptyWildcard (dockerfile2llb/convert_copy.go), and the file
// op then copies nothing for that source (solver/llbsolver/file/backend.go docopy).
test('a COPY whose only wildcard matches nothing selects nothing, without an error', async () => {
  const root = await ctx({ a: '' });
  assert.deepEqual(paths(await selectSources(root, ['*.none'], opts)), []);
});

test('an optional wildcard next to a real source may match nothing (COPY package.json yarn.lock* ./)', async () => {
  const root = await ctx({ 'package.json': '{}' });
  assert.deepEqual(paths(await selectSources(root, ['package.json', 'yarn.lock*'], opts)), [['package.json', ['']]]);
});

test('.dockerignored files are not found as sources, with a hint', async () => {
  const root = await ctx({ secret: 'x' });
  await assert.rejects(selectSources(root, ['secret'], { ...opts, ignore: parseDockerignore('secret') }), (e: unknown) => {
    assert.ok(e instanceof UserError && e.code === 'copy-source-missing');
    assert.match(e.hint ?? '', /\.dockerignore/);
    return true;
  });
});

test('.dockerignored files never enter a directory selection or a wildcard', async () => {
  const root = await ctx({ 'a.log': '', 'src/a.log': '', 'src/main.c': '', 'node_modules/x/y': '' });
  const ignore = parseDockerignore('*.log\nnode_modules\nsrc/*.log');
  assert.deepEqual(paths(await selectSources(root, ['.'], { ...opts, ignore })), [['.', ['', 'src', 'src/main.c']]]);
  assert.deepEqual(paths(await selectSources(root, ['*'], { ...opts, ignore })), [['src', ['', 'main.c']]]);
});

test('an excluded directory appears only as the parent of a re-included file', async () => {
  const root = await ctx({ 'docs/README.md': '', 'docs/other.md': '', 'docs/img/a.png': '' });
  const ignore = parseDockerignore('docs\n!docs/README.md');
  assert.deepEqual(paths(await selectSources(root, ['.'], { ...opts, ignore })), [['.', ['', 'docs', 'docs/README.md']]]);
});

test('COPY --exclude applies below each source and to wildcard matches', async () => {
  const root = await ctx({ 'd/a.txt': '', 'd/b.md': '', 'd/s/c.txt': '', 'homer.txt': '', 'home.md': '' });
  assert.deepEqual(paths(await selectSources(root, ['d'], { ...opts, excludes: ['*.txt'] })), [['d', ['', 'b.md', 's', 's/c.txt']]]);
  assert.deepEqual(paths(await selectSources(root, ['hom*'], { ...opts, excludes: ['*.txt'] })), [['home.md', ['']]]);
});

test('COPY --parents keeps the path below the /./ pivot', async () => {
  const root = await ctx({ 'a/b/c.txt': '', 'x/y/z.txt': '', 'p1/package.json': '', 'p2/package.json': '' });
  const sel = await selectSources(root, ['a/b/c.txt', 'x/./y/z.txt', '*/package.json'], { ...opts, parents: true });
  assert.deepEqual(sel.sources.map((s) => s.parentsPath), ['a/b/c.txt', 'y/z.txt', 'p1/package.json', 'p2/package.json']);
});

test('preserveOwner keeps a stage file\'s owner', async () => {
  const root = await ctx({ f: '' });
  const { execFileSync } = await import('node:child_process');
  execFileSync('chown', ['1234:5678', join(root, 'f')]);
  const [s] = (await selectSources(root, ['f'], { ...opts, preserveOwner: true })).sources;
  assert.deepEqual([s.entries[0].uid, s.entries[0].gid], [1234, 5678]);
});

// ---- hashing ----

async function digest(root: string, srcs = ['.'], h: Parameters<typeof hashSelection>[1] = {}) {
  return hashSelection(await selectSources(root, srcs, opts), h);
}

test('the same content in two folders with different mtimes hashes the same', async () => {
  const a = await ctx({ 'x/f': 'hello', 'x/l': { link: 'f' } });
  const b = await ctx({ 'x/f': 'hello', 'x/l': { link: 'f' } });
  await utimes(join(b, 'x/f'), 1000, 1000);
  assert.equal(await digest(a), await digest(b));
});

const changes: { name: string; change: (root: string) => Promise<void> }[] = [
  { name: 'file bytes', change: (r) => writeFile(join(r, 'x/f'), 'hellO') },
  { name: 'file mode', change: (r) => chmod(join(r, 'x/f'), 0o755) },
  { name: 'a new file', change: (r) => writeFile(join(r, 'x/g'), '') },
  { name: 'a renamed file', change: async (r) => { await rm(join(r, 'x/f')); await writeFile(join(r, 'x/F'), 'hello'); } },
  { name: 'a symlink target', change: async (r) => { await rm(join(r, 'x/l')); await symlink('g', join(r, 'x/l')); } },
];
for (const c of changes)
  test(`the content digest changes with ${c.name}`, async () => {
    const root = await ctx({ 'x/f': 'hello', 'x/l': { link: 'f' } });
    const before = await digest(root);
    await c.change(root);
    assert.notEqual(await digest(root), before);
  });

test('an mtime-only change keeps the digest', async () => {
  const root = await ctx({ 'x/f': 'hello' });
  const d = await digest(root);
  await utimes(join(root, 'x/f'), 5, 5);
  assert.equal(await digest(root), d);
});

test('a change to a .dockerignored file keeps the digest', async () => {
  const root = await ctx({ 'x/f': 'hello', 'x/debug.log': '1' });
  const h = async () => hashSelection(await selectSources(root, ['.'], { ...opts, ignore: parseDockerignore('**/*.log') }));
  const d = await h();
  await writeFile(join(root, 'x/debug.log'), '22');
  assert.equal(await h(), d);
});

test('--chown and --chmod are part of the digest', async () => {
  const root = await ctx({ f: 'x' });
  const plain = await digest(root, ['f']);
  assert.notEqual(await digest(root, ['f'], { chown: { uid: 1, gid: 1 } }), plain);
  assert.notEqual(await digest(root, ['f'], { chmod: '755' }), plain);
  assert.equal(await digest(root, ['f'], { chmod: 0o644 }), plain);
  assert.equal(await digest(root, ['f'], { chmod: 'u=rw,go=r' }), plain);
});

test('the stat memo returns the remembered digest without reading unchanged files', async () => {
  const root = await ctx({ f: 'aaaa', g: 'bbbb' });
  const old = new Date('2020-01-01T00:00:00Z');
  await utimes(join(root, 'f'), old, old);
  await utimes(join(root, 'g'), old, old);
  // Kept where a build keeps it: with the store's memos, by context folder.
  const store = await openStore(join(tmp, `store-${n}`));
  const storage = contextStatMemo(store, root);
  const memo = await loadStatMemo(storage);
  const d1 = await digest(root, ['.'], { memo });
  assert.deepEqual([memo.hits, memo.misses], [0, 2]);
  await memo.save();
  // Same size, same mtime, same inode, different bytes: only a re-read could notice.
  await writeFile(join(root, 'f'), 'AAAA');
  await utimes(join(root, 'f'), old, old);
  const memo2 = await loadStatMemo(contextStatMemo(store, root));
  assert.equal(await digest(root, ['.'], { memo: memo2 }), d1);
  assert.deepEqual([memo2.hits, memo2.misses], [2, 0]);
  assert.notEqual(await digest(root, ['.']), d1, 'without the memo the new bytes are read');
});

test('the stat memo re-reads a file whose size or mtime changed', async () => {
  const root = await ctx({ f: 'aaaa' });
  const old = new Date('2020-01-01T00:00:00Z');
  await utimes(join(root, 'f'), old, old);
  const memo = await loadStatMemo();
  const d1 = await digest(root, ['f'], { memo });
  await writeFile(join(root, 'f'), 'AAAA');
  await utimes(join(root, 'f'), new Date('2021-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z'));
  assert.notEqual(await digest(root, ['f'], { memo }), d1);
});

test('a file modified just now is not memoised (racily clean)', async () => {
  const root = await ctx({ f: 'aaaa' });
  const memo = await loadStatMemo();
  await digest(root, ['f'], { memo });
  await digest(root, ['f'], { memo });
  assert.equal(memo.hits, 0);
  assert.ok((await stat(join(root, 'f'))).mtimeMs > Date.now() - 5000);
});

test('a damaged memo file is ignored', async () => {
  const root = await ctx({ f: 'x' });
  const store = await openStore(join(tmp, 'store-damaged'));
  await store.memos.writeText('context-stat', digestOf(root), '{not json');
  assert.equal(await contextStatMemo(store, root).read(), '{not json', 'the memo a build of this context would load');
  const memo = await loadStatMemo(contextStatMemo(store, root));
  assert.equal(await digest(root, ['f'], { memo }), await digest(root, ['f']));
});

// ---- --chmod ----
import { applyChmod, parseChmod } from '../../context/index.js';
import { writeTree, type Tree } from '../helpers/files.js';

const chmodRows: { spec: string; mode: number; isDir: boolean; want: number }[] = [
  { spec: '755', mode: 0o600, isDir: false, want: 0o755 },
  { spec: '0644', mode: 0o755, isDir: true, want: 0o644 },
  { spec: '4755', mode: 0o644, isDir: false, want: 0o4755 },
  { spec: 'u+x', mode: 0o644, isDir: false, want: 0o744 },
  { spec: '+x', mode: 0o644, isDir: false, want: 0o755 },
  { spec: 'go-w', mode: 0o666, isDir: false, want: 0o644 },
  { spec: 'a=r', mode: 0o777, isDir: false, want: 0o444 },
  { spec: 'a+X', mode: 0o644, isDir: false, want: 0o644 },
  { spec: 'a+X', mode: 0o644, isDir: true, want: 0o755 },
  { spec: 'a+X', mode: 0o744, isDir: false, want: 0o755 },
  { spec: 'u=rwx,g=rx,o=', mode: 0o666, isDir: false, want: 0o750 },
  { spec: 'g=u', mode: 0o640, isDir: false, want: 0o660 },
  { spec: 'u+s', mode: 0o755, isDir: false, want: 0o4755 },
  { spec: '+t', mode: 0o777, isDir: true, want: 0o1777 },
];
for (const r of chmodRows)
  test(`--chmod=${r.spec} on ${r.mode.toString(8)} ${r.isDir ? 'dir' : 'file'} gives ${r.want.toString(8)}`, () =>
    assert.equal(applyChmod(parseChmod(r.spec), r.mode, r.isDir), r.want));

for (const bad of ['999', '8', '17777', 'u+q', 'x+r', ''])
  test(`--chmod=${JSON.stringify(bad)} is copy-bad-chmod`, () =>
    assert.throws(() => parseChmod(bad), (e: unknown) => e instanceof UserError && e.code === 'copy-bad-chmod'));
