import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isReplayable } from '../../cli/build-replay.js';

// Replay is opt-in per build option: only options whose whole effect the key and the record
// capture may be repeated; one nobody listed (a new one) never is.
const cases = [
  { name: 'no options', given: [], want: true },
  { name: 'names, file, args, target, labels, iidfile', given: ['tag', 'file', 'build-arg', 'target', 'label', 'iidfile'], want: true },
  { name: 'progress, quiet, network, platform, allow', given: ['progress', 'quiet', 'network', 'platform', 'allow'], want: true },
  { name: 'an option nobody listed', given: ['tag', 'a-new-option'], want: false },
  { name: '--secret reads a file', given: ['tag', 'secret'], want: false },
  { name: '--ssh reads a socket', given: ['ssh'], want: false },
  { name: '--pull and --push talk to a registry', given: ['pull'], want: false },
  { name: '--push', given: ['push'], want: false },
  { name: '--cache-from reads a cache', given: ['cache-from'], want: false },
  { name: '--cache-to writes one', given: ['cache-to'], want: false },
  { name: '--no-cache runs steps', given: ['no-cache'], want: false },
  { name: '--no-cache-filter runs steps', given: ['no-cache-filter'], want: false },
  { name: "a build's own --root", given: ['root'], want: false },
];
for (const c of cases) test(`replayable options: ${c.name}`, () => assert.equal(isReplayable(c.given), c.want));
