#!/usr/bin/env node
// `npm install` in a checkout builds everything (TypeScript, the bundles, the static helper);
// installed as a dependency from the packed tarball, the package is built already and has
// neither the sources nor the compilers: nothing to do.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (existsSync(join(root, 'tsconfig.json'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
