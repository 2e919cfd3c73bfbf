#!/usr/bin/env node
// Builds the static C programs the project needs: the runtime helper and the fixtures'
// static binaries. Static with musl-gcc where present, else cc -static (DESIGN.md).
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cc = ['musl-gcc', 'cc', 'gcc'].find((c) => {
  try {
    execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
if (!cc) {
  console.error('build-native: no C compiler found (install musl-tools or gcc)');
  process.exit(1);
}
const flags = ['-std=c11', '-Wall', '-Wextra', '-Werror', '-O2', '-static', '-D_GNU_SOURCE'];

function newer(out, sources) {
  if (!existsSync(out)) return false;
  const t = statSync(out).mtimeMs;
  return sources.every((s) => statSync(s).mtimeMs <= t);
}

function build(out, sources, extra = []) {
  if (newer(out, sources)) return;
  const args = [...flags, ...extra, '-o', out, ...sources];
  console.log(`build-native: ${cc} -o ${out.slice(root.length + 1)}`);
  execFileSync(cc, args, { stdio: 'inherit' });
  execFileSync('strip', [out], { stdio: 'ignore' });
}

const helperDir = join(root, 'runtime-helper');
const helperSources = existsSync(helperDir)
  ? readdirSync(helperDir).filter((f) => f.endsWith('.c')).map((f) => join(helperDir, f))
  : [];
if (helperSources.length > 0) {
  const headers = readdirSync(helperDir).filter((f) => f.endsWith('.h')).map((f) => join(helperDir, f));
  if (!newer(join(helperDir, 'tsbuild-helper'), [...helperSources, ...headers])) {
    build(join(helperDir, "tsbuild-helper"), helperSources);
  }
}
for (const dir of ['scratch-hello', 'probe']) {
  const d = join(root, 'fixtures', dir);
  if (!existsSync(d)) continue;
  for (const f of readdirSync(d).filter((x) => x.endsWith('.c'))) {
    build(join(d, f.slice(0, -2)), [join(d, f)]);
  }
}
