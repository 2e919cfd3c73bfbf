import { mkdir, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../common/index.js';

/** One benchmark project: a Dockerfile and its generated context. */
export interface Workload {
  name: string;
  /** Builds on the busybox base (loaded into both tools before timing). */
  needsBusybox: boolean;
  /** A context file to change for the "touched" scenario, if the workload has one. */
  touchFile?: string;
  /** Whether the "mtime only" scenario applies (a big COPY context). */
  mtimeScenario: boolean;
  make(dir: string): Promise<void>;
}

/** Deterministic pseudo-random bytes (xorshift), so every run builds the same context. */
function bytes(seed: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** A project folder holding `dockerfile` as its Dockerfile. */
async function project(dir: string, dockerfile: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
}

export const workloads: Workload[] = [
  {
    name: '1 scratch+ADD hello',
    needsBusybox: false,
    mtimeScenario: false,
    async make(dir) {
      await project(dir, 'FROM scratch\nADD hello /\nCMD ["/hello"]\n');
      await copyFile(join(projectRoot, 'fixtures', 'scratch-hello', 'hello'), join(dir, 'hello'));
    },
  },
  {
    name: '2 busybox+5 RUN',
    needsBusybox: true,
    mtimeScenario: false,
    async make(dir) {
      await project(
        dir,
        [
          'FROM busybox',
          'ENV APP=/srv/app GREETING=hello',
          'WORKDIR /srv/app',
          'RUN echo "$GREETING" > greeting && mkdir -p data && echo 1 > data/one',
          'RUN echo "app:x:1000:1000:app:/srv/app:/bin/sh" >> /etc/passwd',
          'RUN chown -R 1000:1000 /srv/app && ln -s /srv/app/greeting /greeting',
          "RUN sed -i 's/hello/hola/' greeting",
          'RUN rm -f data/one && touch data/two',
          'CMD ["cat", "/greeting"]',
          '',
        ].join('\n'),
      );
    },
  },
  {
    name: '3 busybox+COPY 10k files',
    needsBusybox: true,
    touchFile: 'src/d07/f00042.bin',
    mtimeScenario: true,
    async make(dir) {
      await project(dir, 'FROM busybox\nCOPY src /src\nRUN find /src -type f | wc -l > /count\n');
      // 10,000 files, ~100 MB: most small, some large (mixed like a real source tree).
      for (let d = 0; d < 100; d++) {
        const sub = join(dir, 'src', `d${String(d).padStart(2, '0')}`);
        await mkdir(sub, { recursive: true });
        for (let f = 0; f < 100; f++) {
          const n = d * 100 + f;
          const size = n % 100 === 0 ? 800_000 : n % 10 === 0 ? 20_000 : 1_500;
          await writeFile(join(sub, `f${String(f).padStart(5, '0')}.bin`), bytes(n + 1, size));
        }
      }
    },
  },
  {
    name: '4 busybox+RUN 50k files',
    needsBusybox: true,
    mtimeScenario: false,
    async make(dir) {
      await project(
        dir,
        'FROM busybox\nRUN d=0; while [ $d -lt 50 ]; do mkdir -p /data/$d; i=0; while [ $i -lt 1000 ]; do : > /data/$d/f$i; i=$((i+1)); done; d=$((d+1)); done\n',
      );
    },
  },
  {
    name: '5 multi-stage COPY --from',
    needsBusybox: true,
    mtimeScenario: false,
    async make(dir) {
      await project(
        dir,
        'FROM busybox AS builder\nRUN mkdir /out && echo artefact > /out/app && chmod 755 /out/app\nFROM scratch\nCOPY --from=builder /out/app /app\nCMD ["/app"]\n',
      );
    },
  },
];
