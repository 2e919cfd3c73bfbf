// The `tsbuild` executable: hands argv and the process's streams to cli/app.ts.
import { main } from './app.js';

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
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n\ntsbuild: this is a bug, please report it\n`);
    process.exitCode = 1;
  },
);
