import { Decompress } from 'fzstd';

/**
 * Zstandard decompression (fzstd: Node 20's zlib has none). Synchronous and streaming:
 * each pushed chunk hands any decompressed bytes to `onData` before `push` returns.
 * A malformed frame throws from `push`/`end`.
 */
export interface ZstdDecompressor {
  push(chunk: Uint8Array): void;
  end(): void;
}

export function createZstdDecompressor(onData: (chunk: Uint8Array) => void): ZstdDecompressor {
  const d = new Decompress((chunk) => {
    if (chunk.length > 0) onData(chunk);
  });
  return {
    push: (chunk) => d.push(chunk),
    end: () => d.push(new Uint8Array(0), true),
  };
}

