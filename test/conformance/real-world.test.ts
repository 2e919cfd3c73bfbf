import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { projectRoot } from '../../common/index.js';
import { parseRaw, typeInstructions } from '../../parser/index.js';

// Real-world Dockerfiles (../shared/conformance/real-world): each parses and types without error.
const base = resolve(projectRoot, '..', 'shared', 'conformance', 'real-world');

for (const repo of readdirSync(base, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
  for (const file of readdirSync(resolve(base, repo)).sort()) {
    test(`real-world ${repo}/${file} parses and types`, () => {
      const raw = parseRaw(readFileSync(resolve(base, repo, file)), file);
      const typed = typeInstructions(raw);
      assert.equal(typed.length, raw.instructions.length);
      assert.ok(typed.some((i) => i.kind === 'from'));
    });
  }
}
