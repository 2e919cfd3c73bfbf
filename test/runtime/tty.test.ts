import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeSandbox } from './busybox-rootfs.js';

let box: { dir: string; lower: string };
before(() => {
  box = makeSandbox();
});
after(() => rmSync(box.dir, { recursive: true, force: true }));

/** Run `node script` under `script(1)` so it has a real pty, typing `keys` one line at a time. */
function underPty(scriptFile: string, keys: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', `stty cols 91 rows 33; ${process.execPath} ${scriptFile}`, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    let i = 0;
    const typeNext = () => {
      if (i < keys.length) {
        child.stdin.write(keys[i++]);
        setTimeout(typeNext, 400);
      }
    };
    setTimeout(typeNext, 600);
  });
}

test('-t: a pty in the container echoes typed input, passes window size and the exit code', async () => {
  const [upperDir, workDir, mountPoint, etcDir] = ['u', 'w', 'm', 'e'].map((x) => join(box.dir, x));
  for (const d of [upperDir, workDir, mountPoint, etcDir]) mkdirSync(d);
  const containerModule = new URL('../../executor/container.js', import.meta.url).href;
  const spec = {
    rootfs: { kind: 'overlay', lowerDirs: [box.lower], upperDir, workDir },
    mountPoint, etcDir, argv: ['sh'], env: ['PATH=/bin', 'TERM=xterm'], cwd: '/',
    user: { uid: 0, gid: 0, groups: [] }, hostname: 'tty', network: 'host', tty: true, interactive: true,
  };
  const file = join(box.dir, 'run-tty.mjs');
  writeFileSync(
    file,
    `import { runContainer } from ${JSON.stringify(containerModule)};
const r = await runContainer(${JSON.stringify(spec)}, { stdin: 'inherit', forwardSignals: true });
process.exitCode = r.kind === 'exited' ? r.code : 99;
`,
  );
  const { code, out } = await underPty(file, ['tty; echo typed-$((40+2))\n', 'stty size\n', 'exit 7\n']);
  assert.equal(code, 7, out);
  assert.match(out, /tty; echo typed-\$\(\(40\+2\)\)/, 'the typed line is echoed by the pty');
  assert.match(out, /\/dev\/pts\/0/);
  assert.match(out, /typed-42/);
  assert.match(out, /33 91/);
});
