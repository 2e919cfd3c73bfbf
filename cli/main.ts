// The `tsbuild` executable: hands argv and the process's streams to cli/app.ts.
import { main } from './app.js';
import { needsUserNamespace, runInUserNamespace } from './rootless.js';

let settled = false;
// A command whose work stopped without settling (a promise nobody resolves) would exit 0
// when Node runs out of things to do: make that a failure, said once.
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  process.stderr.write('tsbuild: the command stopped before it finished\n\ntsbuild: this is a bug, please report it\n');
  process.exitCode = 1;
});

const argv = process.argv.slice(2);
(needsUserNamespace(argv, process.env) ? runInUserNamespace(argv) : main(argv, {
  cwd: process.cwd(),
  env: process.env,
  // A getter: creating process.stdin costs a few ms that most commands never need.
  get stdin() {
    return process.stdin;
  },
  stdout: process.stdout,
  stderr: process.stderr,
})).then(
  (code) => {
    settled = true;
    // Exit now: a normal exit tears the whole V8 heap down first, for nothing. Writes to a
    // pipe whose reader is slow are queued, though: exit once both streams have drained.
    const pending = [process.stdout, process.stderr].filter((s) => s.writableLength > 0);
    if (pending.length === 0) process.exit(code);
    let left = pending.length;
    for (const s of pending) {
      s.once('drain', () => --left === 0 && process.exit(code));
      s.once('error', () => process.exit(code)); // the reader is gone (EPIPE): nothing more to deliver
    }
    process.exitCode = code;
  },
  (err: unknown) => {
    settled = true;
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n\ntsbuild: this is a bug, please report it\n`);
    process.exitCode = 1;
  },
);
