// The `tsbuild` executable: hands argv and the process's streams to cli/app.ts.
import { main } from './app.js';

let settled = false;
// A command whose work stopped without settling (a promise nobody resolves) would exit 0
// when Node runs out of things to do: make that a failure, said once.
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  process.stderr.write('tsbuild: the command stopped before it finished\n\ntsbuild: this is a bug, please report it\n');
  process.exitCode = 1;
});

main(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  // A getter: creating process.stdin costs a few ms that most commands never need.
  get stdin() {
    return process.stdin;
  },
  stdout: process.stdout,
  stderr: process.stderr,
}).then(
  (code) => {
    settled = true;
    // Exit now: a normal exit tears the whole V8 heap down first (~9 ms here), for nothing.
    // Writes to stdout and stderr are synchronous on Linux, so nothing printed is lost.
    process.exit(code);
  },
  (err: unknown) => {
    settled = true;
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n\ntsbuild: this is a bug, please report it\n`);
    process.exitCode = 1;
  },
);
