import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { TarWriter } from './tar-write.js';

/**
 * Image archives (`save`) on the one tar writer: plain files and directories only, with
 * fixed metadata (root-owned, mode 0644/0755, mtime 0), so the same images always give the
 * same archive bytes.
 */
export class TarPack {
  private readonly tar: TarWriter;

  constructor(private readonly out: Writable) {
    this.tar = new TarWriter(out);
  }

  private meta(path: string, type: 'file' | 'dir', size: number) {
    return { path: path.replace(/\/$/, ''), type, size, mode: type === 'file' ? 0o644 : 0o755, uid: 0, gid: 0, mtimeMs: 0 };
  }

  addDir(name: string): Promise<void> {
    return this.tar.add(this.meta(name, 'dir', 0));
  }

  addBytes(name: string, data: string | Uint8Array): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    return this.tar.add(this.meta(name, 'file', buf.length), buf);
  }

  /** Append what `open` streams, which must be exactly `size` bytes. */
  addFile(name: string, open: () => Readable, size: number): Promise<void> {
    return this.tar.add(this.meta(name, 'file', size), open());
  }

  /** The end-of-archive blocks; resolves once `out` (ended here) has taken every byte. */
  async finish(): Promise<void> {
    await this.tar.finish();
    this.out.end();
    await finished(this.out);
  }
}
