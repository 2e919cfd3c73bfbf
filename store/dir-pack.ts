import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dirname, join } from 'node:path';
import type { ArchiveSink } from './archive-save.js';

/**
 * An image archive written out as a directory instead of a tar (`--output
 * type=oci,tar=false`): the same entries, as files under `dir` (made when missing; files of
 * an earlier export are overwritten, others left, as BuildKit's local OCI store does).
 */
export class DirPack implements ArchiveSink {
  constructor(private readonly dir: string) {}

  async addDir(name: string): Promise<void> {
    await mkdir(join(this.dir, name), { recursive: true });
  }

  async addBytes(name: string, data: string | Uint8Array): Promise<void> {
    await this.parentOf(name);
    await writeFile(join(this.dir, name), data, { mode: 0o644 });
  }

  async addFile(name: string, open: () => Readable): Promise<void> {
    await this.parentOf(name);
    await pipeline(open(), createWriteStream(join(this.dir, name), { mode: 0o644 }));
  }

  async finish(): Promise<void> {}

  private async parentOf(name: string): Promise<void> {
    await mkdir(dirname(join(this.dir, name)), { recursive: true });
  }
}
