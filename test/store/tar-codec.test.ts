import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { UserError, type FsEntry } from '../../common/index.js';
import { checksum, decodeUstar, encodePax, encodeUstar } from '../../store/tar-format.js';
import { readTar, type TarEntry } from '../../store/tar-read.js';
import { TarWriter } from '../../store/tar-write.js';
import { tempDir } from '../helpers/temp.js';

/**
 * The owned tar codec (store/tar-*.ts): its bytes against tar-stream's packer (an
 * independent implementation), round trips of what ustar cannot hold, GNU tar's archives
 * read and ours read by GNU tar, and hostile input.
 */

async function write(entries: [FsEntry, (Buffer | undefined)?][]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const w = new TarWriter(out);
  for (const [e, body] of entries) await w.add(e, body);
  await w.finish();
  return Buffer.concat(chunks);
}

async function read(bytes: Buffer, what = 'test.tar'): Promise<(TarEntry & { body: string })[]> {
  const out: (TarEntry & { body: string })[] = [];
  await readTar(
    Readable.from([bytes]),
    async (e, body) => {
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(c);
      out.push({ ...e, body: Buffer.concat(parts).toString('latin1') });
    },
    { what },
  );
  return out;
}

const base = { mode: 0o644, uid: 0, gid: 0, mtimeMs: 1_700_000_000_000, size: 0 };

test('ustar entries are byte for byte what tar-stream packs', async () => {
  const long = 'd'.repeat(90) + '/' + 'e'.repeat(60) + '/' + 'f'.repeat(99);
  const ours = await write([
    [{ ...base, path: 'dir', type: 'dir', mode: 0o1755, uid: 1000, gid: 100 }],
    [{ ...base, path: 'dir/file', type: 'file', mode: 0o4755, size: 5 }, Buffer.from('hello')],
    [{ ...base, path: 'dir/link', type: 'symlink', mode: 0o777, linkTarget: '../x' }],
    [{ ...base, path: 'dir/hard', type: 'hardlink', linkTarget: 'dir/file' }],
    [{ ...base, path: 'dir/null', type: 'char', devmajor: 1, devminor: 3 }],
    [{ ...base, path: 'dir/sda', type: 'block', mode: 0o660, devmajor: 8, devminor: 0 }],
    [{ ...base, path: 'dir/pipe', type: 'fifo' }],
    [{ ...base, path: long, type: 'file', size: 1 }, Buffer.from('z')],
  ]);
  const pack = tarStream.pack();
  const theirs: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) theirs.push(Buffer.from(c as Uint8Array));
  })();
  const mtime = new Date(base.mtimeMs);
  const add = (h: Record<string, unknown>, body?: Buffer) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ uid: 0, gid: 0, mtime, mode: 0o644, ...h } as tarStream.Header, body ?? Buffer.alloc(0), (e) => (e ? reject(e) : resolve())),
    );
  await add({ name: 'dir/', type: 'directory', mode: 0o1755, uid: 1000, gid: 100 });
  await add({ name: 'dir/file', type: 'file', mode: 0o4755 }, Buffer.from('hello'));
  await add({ name: 'dir/link', type: 'symlink', mode: 0o777, linkname: '../x' });
  await add({ name: 'dir/hard', type: 'link', linkname: 'dir/file' });
  await add({ name: 'dir/null', type: 'character-device', devmajor: 1, devminor: 3 });
  await add({ name: 'dir/sda', type: 'block-device', mode: 0o660, devmajor: 8, devminor: 0 });
  await add({ name: 'dir/pipe', type: 'fifo' });
  await add({ name: long, type: 'file' }, Buffer.from('z'));
  pack.finalize();
  await done;
  assert.ok(Buffer.concat(theirs).equals(ours), 'the same bytes as tar-stream');
});

test('PAX carries long and non-ASCII names, long link targets, large ids and binary xattrs', async () => {
  const longName = 'a/'.repeat(150) + 'ü-file';
  const target = 't'.repeat(300);
  const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff, 0xfe, 0x00, 0x20, 0x0a, 0x3d]);
  const bytes = await write([
    [{ ...base, path: longName, type: 'file', size: 3, uid: 3_000_000, gid: 0o7777777 + 1, xattrs: { 'security.capability': cap, 'user.a': Buffer.from('b=c') } }, Buffer.from('abc')],
    [{ ...base, path: 'l', type: 'symlink', linkTarget: target }],
    [{ ...base, path: 'h', type: 'hardlink', linkTarget: longName }],
  ]);
  const [f, l, h] = await read(bytes);
  assert.equal(f.path, longName);
  assert.equal(f.body, 'abc');
  assert.equal(f.uid, 3_000_000);
  assert.equal(f.gid, 0o7777777 + 1);
  assert.ok(f.xattrs['security.capability'].equals(cap), 'binary xattr bytes survive');
  assert.equal(f.xattrs['user.a'].toString(), 'b=c');
  assert.equal(l.linkTarget, target);
  assert.equal(h.type, 'hardlink');
  assert.equal(h.linkTarget, longName);
});

test('GNU tar reads what we write, and we read what GNU tar writes (long names, xattrs, devices, hardlinks)', async (t) => {
  try {
    execFileSync('tar', ['--version'], { stdio: 'ignore' });
  } catch {
    return t.skip('GNU tar is not installed');
  }
  const dir = await tempDir();
  const longName = 'n'.repeat(120) + '/' + 'm'.repeat(140);
  const ours = await write([
    [{ ...base, path: 'n'.repeat(120), type: 'dir', mode: 0o755 }],
    [{ ...base, path: longName, type: 'file', size: 2, xattrs: { 'user.k': Buffer.from([0, 1, 2]) } }, Buffer.from('hi')],
  ]);
  await writeFile(join(dir, 'ours.tar'), ours);
  const listed = execFileSync('tar', ['-tf', join(dir, 'ours.tar')], { encoding: 'utf8' });
  assert.deepEqual(listed.trim().split('\n'), ['n'.repeat(120) + '/', longName]);

  const src = join(dir, 'src');
  await mkdir(join(src, 'x'.repeat(110)), { recursive: true });
  await writeFile(join(src, 'x'.repeat(110), 'y'.repeat(120)), 'long');
  await symlink('q'.repeat(150), join(src, 'sym'));
  execFileSync('ln', [join(src, 'x'.repeat(110), 'y'.repeat(120)), join(src, 'hard')]);
  execFileSync('mkfifo', [join(src, 'fifo')]);
  if (process.getuid?.() === 0) execFileSync('mknod', [join(src, 'null'), 'c', '1', '3']);
  for (const format of ['gnu', 'posix']) {
    const tar = join(dir, `${format}.tar`);
    execFileSync('tar', [`--format=${format}`, '--sort=name', '-cf', tar, '-C', src, '.']);
    const entries = await read(await readFile(tar));
    const byName = new Map(entries.map((e) => [e.path.replace(/^\.\//, ''), e]));
    // --sort=name puts `hard` first: it holds the bytes, the long name links to it.
    const long = byName.get(`${'x'.repeat(110)}/${'y'.repeat(120)}`);
    assert.deepEqual([byName.get('hard')?.type, byName.get('hard')?.body], ['file', 'long'], format);
    assert.deepEqual([long?.type, long?.linkTarget.replace(/^\.\//, '')], ['hardlink', 'hard'], `${format}: long name of a hardlink`);
    assert.equal(byName.get('sym')?.linkTarget, 'q'.repeat(150), `${format}: long link target`);
    assert.equal(byName.get('fifo')?.type, 'fifo');
    if (process.getuid?.() === 0) assert.deepEqual([byName.get('null')?.type, byName.get('null')?.devmajor, byName.get('null')?.devminor], ['char', 1, 3]);
  }
});

/** A header block for `name` with type flag `flag` and `size`, checksummed. */
function rawHeader(name: string, flag: string, size: number): Buffer {
  const b = encodeUstar({ name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeSec: 0, size });
  b[156] = flag.charCodeAt(0);
  return resum(b);
}

function resum(b: Buffer): Buffer {
  b.write(checksum(b).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return b;
}

function padded(data: string | Buffer): Buffer {
  const d = Buffer.from(data);
  return Buffer.concat([d, Buffer.alloc((512 - (d.length % 512)) % 512)]);
}

test('GNU long-name and long-link entries name the next entry', async () => {
  const name = 'g'.repeat(300);
  const bytes = Buffer.concat([
    rawHeader('././@LongLink', 'L', name.length + 1),
    padded(name + '\0'),
    rawHeader('././@LongLink', 'K', 201),
    padded('k'.repeat(200) + '\0'),
    resum(Object.assign(encodeUstar({ name: 'short', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtimeSec: 0, size: 0, linkname: 'x' }))),
    Buffer.alloc(1024),
  ]);
  const [e] = await read(bytes);
  assert.equal(e.path, name);
  assert.equal(e.type, 'symlink');
  assert.equal(e.linkTarget, 'k'.repeat(200));
});

test('base-256 sizes decode; PAX size, uid, gid and mtime override the header', async () => {
  const b = encodeUstar({ name: 'big', type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeSec: 0, size: 2 ** 36 });
  assert.equal(b[124], 0x80);
  const h = decodeUstar(b);
  assert.ok(typeof h === 'object' && h.size === 2 ** 36);
  const records = encodePax([['size', '3'], ['uid', '99999'], ['gid', '4242'], ['mtime', '1700000000.5']].map(([k, v]) => [k, Buffer.from(v)]));
  const bytes = Buffer.concat([rawHeader('PaxHeader', 'x', records.length), padded(records), encodeUstar({ name: 'f', type: 'file', mode: 0o644, uid: 1, gid: 1, mtimeSec: 0, size: 0 }), padded('abc'), Buffer.alloc(1024)]);
  const [e] = await read(bytes);
  assert.deepEqual([e.size, e.body, e.uid, e.gid, e.mtimeMs], [3, 'abc', 99999, 4242, 1_700_000_000_500]);
});

test('bodies left unread, or half read, are skipped; bytes after the end are still read', async () => {
  const bytes = await write([
    [{ ...base, path: 'a', type: 'file', size: 100_000 }, Buffer.alloc(100_000, 1)],
    [{ ...base, path: 'b', type: 'file', size: 3 }, Buffer.from('bbb')],
  ]);
  const chunks = [bytes.subarray(0, 700), bytes.subarray(700, 50_000), bytes.subarray(50_000), Buffer.from('trailing junk')];
  let pulled = 0;
  const src = (async function* () {
    for (const c of chunks) {
      pulled++;
      yield c;
    }
  })();
  const seen: string[] = [];
  await readTar(src, async (e, body) => {
    seen.push(e.path);
    if (e.path === 'a') for await (const _ of body) break;
    if (e.path === 'b') {
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(c);
      assert.equal(Buffer.concat(parts).toString(), 'bbb');
    }
  });
  assert.deepEqual(seen, ['a', 'b']);
  assert.equal(pulled, chunks.length, 'the whole input was read');
});

async function rejects(bytes: Buffer, why: RegExp): Promise<void> {
  await assert.rejects(read(bytes, 'layer sha256:feed'), (e: unknown) => {
    assert.ok(e instanceof UserError, `a UserError, not ${String(e)}`);
    assert.equal(e.code, 'tar-invalid');
    assert.match(e.message, /^layer sha256:feed: /);
    assert.match(e.message, why);
    return true;
  });
}

test('hostile archives are one UserError naming the archive', async () => {
  const good = await write([[{ ...base, path: 'f', type: 'file', size: 600 }, Buffer.alloc(600, 7)]]);
  await rejects(good.subarray(0, 300), /ends inside a header/);
  await rejects(good.subarray(0, 800), /ends inside the body of "f"/);
  const flipped = Buffer.from(good);
  flipped[10] ^= 1;
  await rejects(flipped, /checksum/);
  const negative = Buffer.from(good);
  negative.fill(0xff, 124, 136);
  await rejects(resum(negative.subarray(0, 512)), /impossible size/);
  const huge = Buffer.from(good.subarray(0, 512));
  huge[124] = 0x80;
  huge.fill(0xff, 125, 136);
  await rejects(resum(huge), /impossible size/);
  const junkSize = Buffer.from(good.subarray(0, 512));
  junkSize.write('12x4', 124, 'latin1');
  await rejects(resum(junkSize), /malformed numeric field/);
  await rejects(Buffer.concat([rawHeader('PaxHeader', 'x', 9), padded('9 path=x'), good]), /PAX header .* malformed/);
  await rejects(Buffer.concat([rawHeader('PaxHeader', 'x', 2 << 20)]), /too large/);
  await rejects(Buffer.from('this is not a tar archive, only text '.repeat(20)), /no valid tar header at byte 0/);
  const hugeUid = encodePax([['uid', Buffer.from('99999999999')]]);
  await rejects(Buffer.concat([rawHeader('PaxHeader', 'x', hugeUid.length), padded(hugeUid), good]), /impossible uid/);
});

test('names are returned as written: a path escape is the extractor\'s to refuse', async () => {
  const { extractTar } = await import('../../store/layers.js');
  const bytes = await write([[{ ...base, path: '../escape', type: 'file', size: 1 }, Buffer.from('x')]]);
  assert.equal((await read(bytes))[0].path, '../escape');
  const target = join(await tempDir(), 't');
  await mkdir(target);
  await assert.rejects(extractTar(Readable.from([bytes]), target, { what: 'layer x' }), (e: unknown) => e instanceof UserError && e.code === 'hostile-layer');
});
