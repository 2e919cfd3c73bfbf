import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { test } from 'node:test';
import { startOwnExtraction } from '../../executor/prime-layer.js';
import { TarWriter } from '../../store/index.js';
import { extractTar } from '../../store/layers.js';
import { makeTar, snapshot, type FixtureEntry } from '../store/tar-fixture.js';
import { tempDir } from '../helpers/temp.js';

// A COPY's layer is unpacked into memory while the tar writer writes it (executor/copy-step.ts):
// the writer's batches go to the blob and to the extraction's sink, and a batch is filled again
// once both have called back (store/tar-write.ts). The sink must not call back before its
// extraction has taken the bytes, or the extraction unpacks the next batch's bytes instead.

/** Bytes of file `i`: different in every file, so a reused batch shows. */
function body(i: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let at = 0; at < size; at++) b[at] = (i * 131 + at * 7 + (at >> 8)) & 0xff;
  return b;
}

test('an extraction fed while its layer is written (big: a worker thread) unpacks the bytes the blob got', async () => {
  const box = await tempDir('tsbuild-prime-');
  const x = await startOwnExtraction(join(box, 'incoming'));
  const blob: Buffer[] = [];
  // The blob: takes each batch at once (a copy), as a fast disk would.
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      blob.push(Buffer.from(chunk));
      cb();
    },
  });
  const tar = new TarWriter(out, x.sink);
  const mtimeMs = 1_700_000_000_000;
  await tar.add({ path: 'd', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeMs, size: 0 });
  // Streamed bodies make the writer flush a part-filled batch before each (small writes), and
  // past 4 MiB the extraction runs in a worker whose sink calls back late.
  for (let i = 0; i < 400; i++) {
    const size = i % 3 === 0 ? 40_000 + i : 700 + i;
    const bytes = body(i, size);
    const asStream = i % 3 === 0;
    await tar.add({ path: `d/f${i}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeMs, size }, asStream ? Readable.from([bytes]) : bytes);
  }
  await tar.finish();
  x.sink.end();
  out.end();
  assert.equal(await x.done(), true);
  const whole = Buffer.concat(blob);
  assert.ok(whole.length > 5 * 1024 * 1024, `${whole.length} bytes: past the worker's threshold`);
  const reference = join(box, 'reference');
  await mkdir(reference);
  await extractTar(Readable.from([whole]), reference, { what: 'reference' });
  const strip = (dir: string) => async () => (await snapshot(dir, '')).map((l) => l.slice(dir.length));
  assert.deepEqual(await strip(join(box, 'incoming'))(), await strip(reference)());
});

test('the extraction\'s sink calls back once its extraction took the bytes: a writer may then reuse its buffer', async () => {
  const box = await tempDir('tsbuild-prime-reuse-');
  const entries: FixtureEntry[] = [{ name: 'd/', type: 'directory' }];
  for (let i = 0; i < 3000; i++) entries.push({ name: `d/f${i}`, content: body(i, 3000 + (i % 50)) });
  const tar = await makeTar(entries);
  const x = await startOwnExtraction(join(box, 'incoming'));
  // Pieces below a stream's high-water mark, through one buffer overwritten at each callback.
  const buf = Buffer.alloc(7_000);
  for (let at = 0; at < tar.length; at += buf.length) {
    const n = tar.copy(buf, 0, at, at + buf.length);
    await new Promise<void>((resolve) => x.sink.write(buf.subarray(0, n), () => resolve()));
    buf.fill(0xa5);
  }
  x.sink.end();
  assert.equal(await x.done(), true);
  const reference = join(box, 'reference');
  await mkdir(reference);
  await extractTar(Readable.from([tar]), reference, { what: 'reference' });
  const strip = async (dir: string) => (await snapshot(dir, '')).map((l) => l.slice(dir.length));
  assert.deepEqual(await strip(join(box, 'incoming')), await strip(reference));
});
