/**
 * canonicalJson skips the sorted copy when a value's keys are already in order; its output
 * must stay byte for byte what the copy gives, since cache keys and golden files hash it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from '../../common/index.js';

/** The definition: a copy with every object's keys sorted, then JSON.stringify. */
function reference(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = sortKeys(x);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sortKeys(value));
}

function rng(seed: number): () => number {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const KEYS = ['a', 'b', 'B', 'parent', 'op', 'edits', '0', '1', '9', '10', 'é', '\u{1F600}', 'ab', ''];

function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (depth > 3 || r < 0.3) {
    const leaves = [null, undefined, 0, -1.5, true, 'x', 'value "quoted"', new Date(0), Buffer.from('hi')];
    return leaves[Math.floor(next() * leaves.length)];
  }
  if (r < 0.5) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const keys = KEYS.filter(() => next() < 0.4);
  // Half of the objects are built in sorted order, as the cache keys are.
  if (next() < 0.5) keys.sort();
  const o: Record<string, unknown> = next() < 0.1 ? Object.create(null) : {};
  for (const k of keys) o[k] = randomValue(next, depth + 1);
  return o;
}

test('canonicalJson gives the sorted copy’s JSON for 20,000 random values', () => {
  const next = rng(22);
  for (let i = 0; i < 20_000; i++) {
    const v = randomValue(next, 0);
    assert.equal(canonicalJson(v), reference(v), JSON.stringify(v));
  }
});

test('canonicalJson of values whose JSON differs from their sorted copy', () => {
  // A Date and a Buffer have toJSON; the sorted copy of either is an object of its own keys.
  assert.equal(canonicalJson({ at: new Date(0) }), '{"at":{}}');
  assert.equal(canonicalJson([Buffer.from('A')]), '[{"0":65}]');
  assert.equal(canonicalJson({ b: 1, a: { d: undefined, c: [1, { z: 1, y: 2 }] } }), '{"a":{"c":[1,{"y":2,"z":1}]},"b":1}');
});
