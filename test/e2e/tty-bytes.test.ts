import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { before, test } from 'node:test';
import { cliPath } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';

// The exact bytes `run -ti` puts on a terminal (issue 23 item 10). util-linux script(1) sends
// ^D to its pty for an empty stdin (lib/pty-session.c, ul_pty_write_eof_to_child) while
// tsbuild is still starting; the kernel keeps it in the cooked terminal as an end-of-file
// mark, which raw mode would hand over as a NUL byte and the container's terminal echo as ^@.
// Docker prints exactly `Hello world\r\n`. The race is timing-dependent, hence many runs.
let root: string;

before(async () => {
  ({ root } = await busyboxWork('tsbuild-tty-bytes-'));
});

/** `tsbuild ARGS` under script(1), a real pty, fed `input` (empty: script sends ^D): its output bytes. */
function underScript(args: string[], input: string): Promise<{ code: number | null; out: Buffer }> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, cliPath, '--root', root, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => chunks.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out: Buffer.concat(chunks) }));
    child.stdin.end(input);
  });
}

test('run -ti echo through a pty prints exactly "Hello world\\r\\n", 30 times in a row', async () => {
  for (let i = 0; i < 30; i++) {
    const { code, out } = await underScript(['run', '-ti', '--rm', 'busybox', 'echo', 'Hello world'], '');
    assert.equal(code, 0, `run ${i}: ${JSON.stringify(out.toString('latin1'))}`);
    assert.deepEqual(out, Buffer.from('Hello world\r\n'), `run ${i}: ${JSON.stringify(out.toString('latin1'))}`);
  }
});

test('run -ti still passes a line of stdin to the command, and its end-of-file after it', async () => {
  for (let i = 0; i < 5; i++) {
    const { code, out } = await underScript(['run', '-ti', '--rm', 'busybox', 'sh', '-c', 'read l; echo got-$l; read m || echo eof'], 'x\n');
    assert.equal(code, 0, out.toString('latin1'));
    // script's own pty echoes the line (its stdin is a pipe), then the container's terminal does.
    assert.deepEqual(out, Buffer.from('x\r\nx\r\ngot-x\r\neof\r\n'), `run ${i}: ${JSON.stringify(out.toString('latin1'))}`);
  }
});
