#!/usr/bin/env node
// Bundles the compiled CLI into CommonJS files (dependencies included):
//  - dist/tsbuild-main.cjs: cli/main.js and everything it imports. Node then reads one
//    file instead of ~900 small modules (chevrotain alone pulls in 650 lodash-es files),
//    and CommonJS lets the launcher compile it with V8's code cache (Node 20 has no code
//    cache for ES modules).
//  - dist/tsbuild.cjs: the launcher, cli/launch.js (package.json's bin): replays a fully
//    cached build or loads the main bundle. It must stay small: it runs on every start.
//  - dist/tsbuild-grammar.cjs (the exec-form grammar and Chevrotain), dist/tsbuild-undici.cjs
//    and dist/tsbuild-extract.cjs (the layer extractor's worker), loaded when they are needed.
import { build } from 'esbuild';
import { chmod, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

// The sources are ES modules: import.meta.url becomes the bundle's own file URL.
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Less source for V8 to read and compile at every start; names are kept for stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  define: { 'import.meta.url': '__tsbuild_url' },
  // Dependencies' license comments go to <bundle>.LEGAL.txt beside the bundle (one of them
  // is not ASCII, see below).
  legalComments: 'external',
  // A native addon (zstd compression), loaded with require() from node_modules on first use.
  external: ['@mongodb-js/zstd'],
};
const url = "var __tsbuild_url = require('node:url').pathToFileURL(__filename).href;";

await build({ ...common, entryPoints: [join(dist, 'cli', 'main.js')], outfile: join(dist, 'tsbuild-main.cjs'), banner: { js: url } });
// The layer extractor's worker thread (store/extract-thread.ts) starts from its own bundle.
await build({ ...common, entryPoints: [join(dist, 'store', 'extract-worker.js')], outfile: join(dist, 'tsbuild-extract.cjs'), banner: { js: url } });
// The exec-form grammar and Chevrotain (parser/exec-form.ts loads them at their first use),
// and undici (common/undici.ts, at the first HTTP request).
await build({ ...common, entryPoints: [join(dist, 'parser', 'grammar.js')], outfile: join(dist, 'tsbuild-grammar.cjs') });
await build({ ...common, stdin: { contents: "module.exports = require('undici');", resolveDir: root, loader: 'js' }, outfile: join(dist, 'tsbuild-undici.cjs') });
// The launcher runs the main bundle as a vm.Script, where a dynamic import() of something
// not bundled (`await import('node:fs')`) throws: import such modules statically.
const mainText = await readFile(join(dist, 'tsbuild-main.cjs'), 'utf8');
const left = /[^\w$.]import\(\s*["'`][^"'`]*/.exec(mainText);
if (left) throw new Error(`bundle: a dynamic import is left in dist/tsbuild-main.cjs (${left[0].trim()}…): import it statically`);
// The launcher reads the bundle as latin1 (twice as fast as UTF-8 for 1.4 MB): it must be
// ASCII. esbuild escapes strings; a regexp literal keeps its characters: write \u escapes.
const wide = /.{0,40}[^\x00-\x7f].{0,20}/.exec(mainText);
if (wide) throw new Error(`bundle: dist/tsbuild-main.cjs is not ASCII near "${wide[0]}": use \\u escapes in the source`);
// What loads at first use from a bundle of its own must not be in the main one too.
if (mainText.includes('EmbeddedActionsParser')) throw new Error('bundle: Chevrotain is in dist/tsbuild-main.cjs: import parser/grammar.ts only through parser/exec-form.ts');
if (mainText.includes('RequestContentLengthMismatchError')) throw new Error('bundle: undici is in dist/tsbuild-main.cjs: load it only through common/undici.ts');

// The launcher is run by /bin/sh first (line 2 is shell, and to JavaScript a string and a
// comment; the shell's `:` is a builtin, where `//bin/true` cost a process):
// it hands the command to the front door (front-door/, a small static program), which
// replays a fully cached build or runs Node on this file. Without the front door, the shell
// runs Node itself, moving NODE_EXTRA_CA_CERTS aside as the front door does (see cli/launch.ts).
// Neither passes V8 flags: any flag makes V8 refuse the code cache of Node's own modules;
// common/young-generation.ts caps memory at run time instead.
// `node dist/tsbuild.cjs` works too (no replay then).
const shell = [
  '#!/bin/sh',
  '\':\' //; s=$0; if [ -L "$s" ]; then s=$(readlink -f "$s"); fi; case $s in */*) d=${s%/*};; *) d=.;; esac; ' +
    'if [ -x "$d/../front-door/tsbuild-front" ]; then exec "$d/../front-door/tsbuild-front" "$s" "$@"; fi; ' +
    'if [ -n "${NODE_EXTRA_CA_CERTS-}" ]; then TSBUILD_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS; export TSBUILD_EXTRA_CA_CERTS; unset NODE_EXTRA_CA_CERTS; fi; ' +
    'exec node "$s" "$@"',
].join('\n');
await build({ ...common, entryPoints: [join(dist, 'cli', 'launch.js')], outfile: join(dist, 'tsbuild.cjs'), banner: { js: `${shell}\n${url}` } });
await chmod(join(dist, 'tsbuild.cjs'), 0o755);
