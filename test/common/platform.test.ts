/**
 * Platform parsing and matching as containerd's platforms package does it
 * (github.com/containerd/platforms: database.go normalizeArch, compare.go platformVector/Only).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bestPlatformMatch, formatPlatform, parsePlatformList, parsePlatformSpec, type Platform } from '../../common/index.js';

const norm = [
  { given: 'linux/arm64/v8', want: 'linux/arm64' },
  { given: 'linux/aarch64', want: 'linux/arm64' },
  { given: 'linux/x86_64', want: 'linux/amd64' },
  { given: 'linux/arm', want: 'linux/arm/v7' },
  { given: 'linux/armhf', want: 'linux/arm/v7' },
  { given: 'linux/armel', want: 'linux/arm/v6' },
  { given: 'local', want: 'linux/amd64' },
];
for (const c of norm) test(`platform ${c.given} normalises to ${c.want}`, () => assert.equal(formatPlatform(parsePlatformSpec(c.given)), c.want));

test('a platform list keeps its order and drops duplicates after normalising', () => {
  assert.deepEqual(parsePlatformList('linux/arm64, linux/amd64,linux/arm64/v8').map(formatPlatform), ['linux/arm64', 'linux/amd64']);
  assert.throws(() => parsePlatformList('linux'), { code: 'invalid-platform' } as object);
});

const index: Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
  { os: 'linux', architecture: 'arm', variant: 'v6' },
  { os: 'linux', architecture: 'arm', variant: 'v5' },
];
const match = [
  { want: 'linux/arm64', got: 'linux/arm64/v8', why: 'arm64 accepts arm64/v8' },
  { want: 'linux/arm/v7', got: 'linux/arm/v6', why: 'arm/v7 falls back to v6 first' },
  { want: 'linux/arm/v6', got: 'linux/arm/v6', why: 'an exact variant wins' },
  { want: 'linux/s390x', got: undefined, why: 'no fallback across architectures' },
];
for (const c of match) {
  test(`matcher: ${c.why}`, () => {
    const hit = bestPlatformMatch(index, parsePlatformSpec(c.want), (p) => p);
    assert.equal(hit && formatPlatform(hit), c.got);
  });
}
test('matcher: arm/v7 reaches v5 when v6 is missing', () => {
  assert.equal(formatPlatform(bestPlatformMatch(index.filter((p) => p.variant !== 'v6'), parsePlatformSpec('linux/arm/v7'), (p) => p)!), 'linux/arm/v5');
});
