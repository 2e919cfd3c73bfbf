import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { cliPath } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';

// The tty progress display as a person sees it: builds run in a real terminal (tmux), and
// the screen is read back after they finish, with the shell's next line printed under it.
const exec = promisify(execFile);
const session = `tsbuild-tty-progress-${process.pid}`;
let root: string;
let work: string;

before(async () => {
  ({ work, root } = await busyboxWork());
  await exec('tmux', ['new-session', '-d', '-s', session, '-x', '100', '-y', '40', 'sh']);
});

after(() => {
  spawnSync('tmux', ['kill-session', '-t', session]);
});

async function screen(): Promise<string> {
  return (await exec('tmux', ['capture-pane', '-p', '-t', session])).stdout;
}

/** Type a build at the shell prompt; return the screen once the shell printed `marker`. */
async function buildOnScreen(name: string, dockerfile: string): Promise<string> {
  const ctx = join(work, `ctx-${name}`);
  await writeTree(ctx, { Dockerfile: dockerfile });
  const marker = `AFTER-${name}`;
  await exec('tmux', ['send-keys', '-t', session, 'clear', 'Enter']);
  const cmd = `${process.execPath} ${cliPath} --root ${root} build --progress tty -t ${name} ${ctx}; echo ${marker}-$?`;
  await exec('tmux', ['send-keys', '-t', session, cmd, 'Enter']);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = await screen();
    if (new RegExp(`^${marker}-\\d+$`, 'm').test(s)) return s;
    if (Date.now() > deadline) throw new Error(`the build did not finish on the screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The screen from the build's display on (the typed command line wraps above it). */
function display(s: string): string[] {
  const lines = s.split('\n');
  return lines.slice(lines.findIndex((l) => l.startsWith('[+] Building')));
}

// A step that prints many lines shows its last ones while it runs and none once done, so
// the frame shrinks by up to six lines: without erasing below, they stayed on the screen.
const chatty = (build: string) => `RUN for i in 1 2 3 4 5 6 7 8 9; do echo chatty-line-$i; sleep 0.1; done; sleep 0.5 # ${build}`;

test('a finished build leaves one clean final frame: no stale output lines, the prompt right under it', async () => {
  const s = await buildOnScreen('shrinks', `FROM busybox\n${chatty('shrinks')}\nRUN echo short && sleep 0.4\n`);
  const shown = display(s).filter((l) => l.trim() !== '');
  assert.ok(!/chatty-line-[0-9]/.test(s), `output of a finished step stays on the screen:\n${s}`);
  assert.equal(shown.filter((l) => l.startsWith('[+] Building')).length, 1, s);
  assert.deepEqual(shown.slice(-2), ['AFTER-shrinks-0', '#'], 'the shell\'s next line, then its prompt, under the frame');
  assert.equal(shown.filter((l) => / => \[2\/3\] RUN for i/.test(l)).length, 1, `the step is listed once:\n${s}`);
  assert.match(shown[shown.length - 3], /^ => exporting to image +\d+\.\ds$/, s);
  assert.ok(shown.every((l) => !/…$/.test(l)), `a step's time is never cut off:\n${s}`);
});

test('a failing build shows the failed step with its output once, then the error, then the prompt', async () => {
  const s = await buildOnScreen('fails', `FROM busybox\n${chatty('fails')}\nRUN echo about-to-fail && exit 3\n`);
  const shown = display(s).filter((l) => l.trim() !== '');
  assert.ok(!/chatty-line-[0-9]/.test(s), `output of a finished step stays on the screen:\n${s}`);
  assert.equal(shown.filter((l) => / => \[3\/3\] RUN echo about-to-fail/.test(l)).length, 1, s);
  assert.equal(shown.filter((l) => /ERROR/.test(l)).length, 1, `one ERROR step line:\n${s}`);
  assert.ok(shown.some((l) => /error\[run-failed\]: RUN exited with code 3/.test(l)), s);
  assert.deepEqual(shown.slice(-2), ['AFTER-fails-1', '#']);
});
