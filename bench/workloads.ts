import { mkdir, writeFile, copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../common/index.js';

/** One benchmark project: a Dockerfile and its generated context. */
/** Workload 2's lines after its FROM (bench/multi-platform.ts builds the same for two platforms). */
export const WORKLOAD2_STEPS = [
  'ENV APP=/srv/app GREETING=hello',
  'WORKDIR /srv/app',
  'RUN echo "$GREETING" > greeting && mkdir -p data && echo 1 > data/one',
  'RUN echo "app:x:1000:1000:app:/srv/app:/bin/sh" >> /etc/passwd',
  'RUN chown -R 1000:1000 /srv/app && ln -s /srv/app/greeting /greeting',
  "RUN sed -i 's/hello/hola/' greeting",
  'RUN rm -f data/one && touch data/two',
  'CMD ["cat", "/greeting"]',
  '',
];

export interface Workload {
  name: string;
  /** Base images loaded into every tool before timing. */
  bases: ('busybox' | 'debian')[];
  /** A context file to change for the "touched" scenario, if the workload has one. */
  touchFile?: string;
  /** The edit loop: a source file and its i-th edit of the file as made, rebuilt after each edit. */
  edit?: { file: string; content(made: string, i: number): string };
  /** Cold builds per tool when fewer than BENCH_RUNS (a package manager's downloads). */
  coldRuns?: number;
  /**
   * The same work with no build tool: shell commands run in a plain chroot of the Debian
   * fixture's root filesystem, the context at /ctx (the physical floor of an apt/npm build).
   */
  floor?: string;
  /** Peers left out of this workload, with why (printed once). */
  skipPeers?: Record<string, string>;
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
    bases: [],
    mtimeScenario: false,
    async make(dir) {
      await project(dir, 'FROM scratch\nADD hello /\nCMD ["/hello"]\n');
      await copyFile(join(projectRoot, 'fixtures', 'scratch-hello', 'hello'), join(dir, 'hello'));
    },
  },
  {
    name: '2 busybox+5 RUN',
    bases: ['busybox'],
    mtimeScenario: false,
    async make(dir) {
      await project(
        dir,
        ['FROM busybox', ...WORKLOAD2_STEPS].join('\n'),
      );
    },
  },
  {
    name: '3 busybox+COPY 10k files',
    bases: ['busybox'],
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
    bases: ['busybox'],
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
    bases: ['busybox'],
    mtimeScenario: false,
    async make(dir) {
      await project(
        dir,
        'FROM busybox AS builder\nRUN mkdir /out && echo artefact > /out/app && chmod 755 /out/app\nFROM scratch\nCOPY --from=builder /out/app /app\nCMD ["/app"]\n',
      );
    },
  },
  {
    name: '6 Node app (apt, npm ci, COPY . .)',
    bases: ['debian'],
    mtimeScenario: false,
    coldRuns: Number(process.env.BENCH_COLD_RUNS ?? 3),
    edit: { file: 'server.js', content: (made, i) => made.replace("'hello'", `'hello ${i}'`) },
    floor:
      'apt-get update && apt-get install -y --no-install-recommends nodejs npm && mkdir -p /app && cd /app && ' +
      'cp /ctx/package.json /ctx/package-lock.json /ctx/npm-ca.crt . && npm ci --omit=dev --cafile=npm-ca.crt && cp -a /ctx/. .',
    async make(dir) {
      const app = join(projectRoot, 'bench', 'node-app');
      await mkdir(dir, { recursive: true });
      for (const name of await readdir(app)) await copyFile(join(app, name), join(dir, name));
      // This machine's CA bundle: the npm registry may be reached through a TLS-intercepting proxy.
      await copyFile('/etc/ssl/certs/ca-certificates.crt', join(dir, 'npm-ca.crt'));
    },
  },
  {
    name: '7 C program, gcc stage into scratch',
    bases: ['debian'],
    mtimeScenario: false,
    coldRuns: Number(process.env.BENCH_COLD_RUNS ?? 3),
    edit: { file: 'main.c', content: (made, i) => made.replace('hello', `hello ${i}`) },
    floor: 'apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && mkdir -p /src && cd /src && cp /ctx/main.c . && gcc -O2 -static -o /hello main.c',
    async make(dir) {
      await project(
        dir,
        [
          'FROM debian AS build',
          'RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev',
          'WORKDIR /src',
          'COPY main.c .',
          'RUN gcc -O2 -static -o /hello main.c',
          'FROM scratch',
          'COPY --from=build /hello /hello',
          'CMD ["/hello"]',
          '',
        ].join('\n'),
      );
      await writeFile(join(dir, 'main.c'), mainC);
    },
  },
  {
    name: '8 10,000 LABELs',
    bases: [],
    mtimeScenario: false,
    coldRuns: 3,
    // Buildah commits an image per instruction with --layers: thousands of seconds here.
    skipPeers: { buildah: 'Buildah commits one image per LABEL (--layers): left out of workload 8' },
    async make(dir) {
      const lines = ['FROM scratch'];
      for (let i = 0; i < 10_000; i++) lines.push(`LABEL key${i}="value ${i}"`);
      await project(dir, lines.join('\n') + '\n');
    },
  },
];

const mainC = '#include <stdio.h>\n\nint main(void) {\n  puts("hello");\n  return 0;\n}\n';
