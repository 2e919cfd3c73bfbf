import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';

/**
 * The one wrapper of tar-stream's packer in the store, for image archives (`save`): plain
 * files and directories only, with fixed metadata (root-owned, mode 0644/0755, mtime 0), so
 * the same images always give the same archive bytes.
 */
export class TarPack {
  private readonly pack = tarStream.pack();
  private readonly done: Promise<void>;

  constructor(out: Writable) {
    this.done = pipeline(this.pack as unknown as NodeJS.ReadableStream, out);
    this.done.catch(() => {}); // surfaced by finish()
  }

  private header(name: string, size: number, type: 'file' | 'directory') {
    return { name, size, type, mode: type === 'file' ? 0o644 : 0o755, uid: 0, gid: 0, mtime: new Date(0) };
  }

  addDir(name: string): Promise<void> {
    return new Promise((resolve, reject) => this.pack.entry(this.header(name, 0, 'directory'), (e) => (e ? reject(e) : resolve())));
  }

  addBytes(name: string, data: string | Uint8Array): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    return new Promise((resolve, reject) => this.pack.entry(this.header(name, buf.length, 'file'), buf, (e) => (e ? reject(e) : resolve())));
  }

  /** Append the file at `path`, which must hold exactly `size` bytes. */
  async addFile(name: string, path: string, size: number): Promise<void> {
    let entryError: Error | null | undefined;
    const sink = this.pack.entry(this.header(name, size, 'file'), (e) => {
      entryError = e;
    });
    await pipeline(createReadStream(path), sink as unknown as NodeJS.WritableStream);
    if (entryError) throw entryError;
  }

  async finish(): Promise<void> {
    this.pack.finalize();
    await this.done;
  }
}
