import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { digestOf } from '../../common/index.js';
import { compressStream, type CompressionSpec } from '../../store/index.js';
import { createZstdDecompressor } from '../../registry/zstd.js';
import { tempDir } from '../helpers/temp.js';

const exec = promisify(execFile);

/**
 * Parallel layer compression (store/chunked-compress.ts): the same input gives the same
 * bytes for any core count and any way its reads are cut, and gzip(1), zstd(1), zlib and
 * fzstd all read it back. gzip is a series of members (RFC 1952 §2.2), one per MiB of input,
 * as eStargz layers are; a member depends only on its MiB.
 */

/** 5.5 MiB that compresses about as a layer does: text-like runs between noise. */
function layerLike(): Buffer {
  const out = Buffer.alloc(5.5 * (1 << 20));
  let x = 7;
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = (i >> 12) % 3 === 0 ? x >>> 24 : 97 + ((i * 7) % 23);
  }
  return out;
}

/** `data` as a stream whose reads are cut every `readBytes`. */
function readsOf(data: Buffer, readBytes: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += readBytes) parts.push(data.subarray(i, i + readBytes));
  return Readable.from(parts);
}

async function collect(src: Readable, spec: CompressionSpec, cores: number): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of compressStream(src, spec, { cores })) out.push(b);
  return Buffer.concat(out);
}

function compress(data: Buffer, spec: CompressionSpec, cores: number, readBytes = 65536): Promise<Buffer> {
  return collect(readsOf(data, readBytes), spec, cores);
}

const data = layerLike();

for (const spec of [{ algorithm: 'gzip', level: 6 }, { algorithm: 'zstd', level: 3 }] as CompressionSpec[]) {
  test(`${spec.algorithm}: the same bytes across runs, --cores 1, 2 and 4 and any read size`, async () => {
    const one = await compress(data, spec, 1);
    for (const [cores, reads] of [[1, 65536], [2, 65536], [4, 65536], [4, 1000003], [2, 4096]]) {
      const again = await compress(data, spec, cores, reads);
      assert.equal(digestOf(again), digestOf(one), `cores ${cores}, reads of ${reads}`);
    }
    assert.ok(one.length < data.length * 0.8, 'it compresses');
  });
}

test('gzip: one member per MiB that zlib and gzip(1) read back, each with its CRC and size', async () => {
  const gz = await compress(data, { algorithm: 'gzip', level: 6 }, 2);
  assert.deepEqual([...gz.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff], 'no name, no mtime');
  assert.ok(gunzipSync(gz).equals(data));
  // The last member holds the last half MiB: its ISIZE trailer says so.
  assert.equal(gz.readUInt32LE(gz.length - 4), data.length % (1 << 20));
  // A member is the compression of its MiB alone: the first MiB's member ends where the second's header starts.
  const first = await compress(data.subarray(0, 1 << 20), { algorithm: 'gzip', level: 6 }, 1);
  assert.ok(gz.subarray(0, first.length).equals(first));
  assert.deepEqual([...gz.subarray(first.length, first.length + 4)], [0x1f, 0x8b, 8, 0]);
  const dir = await tempDir();
  await writeFile(join(dir, 'l.gz'), gz);
  await exec('gzip', ['-t', join(dir, 'l.gz')]);
  const { stdout } = await exec('gzip', ['-dc', join(dir, 'l.gz')], { encoding: 'buffer', maxBuffer: 64 << 20 });
  assert.ok(stdout.equals(data));
});

test('zstd: a stream of frames that zstd(1) and fzstd read back', async () => {
  const zst = await compress(data, { algorithm: 'zstd', level: 3 }, 2);
  const dir = await tempDir();
  await writeFile(join(dir, 'l.zst'), zst);
  const { stdout } = await exec('zstd', ['-dc', join(dir, 'l.zst')], { encoding: 'buffer', maxBuffer: 64 << 20 });
  assert.ok(stdout.equals(data));
  const parts: Buffer[] = [];
  const d = createZstdDecompressor((c) => parts.push(Buffer.from(c)));
  d.push(zst);
  d.end();
  assert.ok(Buffer.concat(parts).equals(data));
});

test('an empty input is still one valid gzip member and zstd frame', async () => {
  const gz = await compress(Buffer.alloc(0), { algorithm: 'gzip', level: 6 }, 2);
  assert.equal(gunzipSync(gz).length, 0);
  const zst = await compress(Buffer.alloc(0), { algorithm: 'zstd', level: 3 }, 2);
  const dir = await tempDir();
  await writeFile(join(dir, 'e.zst'), zst);
  assert.equal((await exec('zstd', ['-dc', join(dir, 'e.zst')])).stdout, '');
});

test('the level changes the bytes; a gzip level is recorded in the header (XFL, RFC 1952 §2.3.1)', async () => {
  const fast = await compress(data, { algorithm: 'gzip', level: 1 }, 2);
  const best = await compress(data, { algorithm: 'gzip', level: 9 }, 2);
  assert.equal(fast[8], 4);
  assert.equal(best[8], 2);
  assert.ok(gunzipSync(fast).equals(data) && gunzipSync(best).equals(data));
  assert.notEqual(digestOf(fast), digestOf(best));
});

test('gzip: a source that fails half-way fails with its error, and a reader that stops early stops the helper', async () => {
  const failing = new Readable({
    read() {
      this.push(data.subarray(0, 3 << 20));
      this.destroy(new Error('layer file vanished'));
    },
  });
  await assert.rejects(collect(failing, { algorithm: 'gzip', level: 6 }, 2), /layer file vanished/);
  const early = compressStream(readsOf(data, 65536), { algorithm: 'gzip', level: 6 }, { cores: 2 });
  const first = await early.next();
  assert.equal(first.done, false);
  await early.return(undefined);
  await new Promise((r) => setTimeout(r, 200)); // the kill's delivery
  const left = spawnSync('pgrep', ['-x', '-P', String(process.pid), 'tsbuild-gzip'], { encoding: 'utf8' });
  assert.equal(left.stdout.trim(), '', 'no tsbuild-gzip left running');
});
