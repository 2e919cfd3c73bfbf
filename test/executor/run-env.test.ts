import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';
import { readLayoutImage, saveAndUnpack } from '../helpers/unpack.js';

// What a RUN's environment holds and what a stage's config starts from, as BuildKit has it.
// The busybox base here is imported without any config, so it has no PATH: the case of the
// README's Debian fixture and of every `import`ed image.
let root: string;
let work: string;

before(async () => {
  ({ work, root } = await busyboxWork());
});

async function build(name: string, dockerfile: string, files: Record<string, string> = {}) {
  const ctx = join(work, `ctx-${name}`);
  await writeTree(ctx, { Dockerfile: dockerfile, ...files });
  return runCli(['build', '--progress', 'plain', '-t', name, ctx], { root });
}

async function unpack(name: string) {
  const saved = await saveAndUnpack(root, name, join(work, `unpack-${name}`));
  return { rootfs: join(saved.bundle, 'rootfs'), image: await readLayoutImage(saved.layout) };
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// HOME is set by runc from the exec user's passwd entry ("/" without one) when the
// environment has none: BuildKit's RUN runs under runc (executor/runcexecutor), whose
// libcontainer setupUser does it; BuildKit's executor/oci/spec.go sets no HOME itself.
test('RUN has HOME from /etc/passwd: /root for root, the USER\'s home, / without an entry; ENV HOME wins', async () => {
  const r = await build(
    'home',
    `FROM busybox
RUN echo "root:$HOME" > /out-root
RUN cat > /out-heredoc <<EOF
heredoc:$HOME
EOF
RUN echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd && mkdir -p /home/app && chown 1000 /home/app
USER app
RUN echo "app:$HOME" > /tmp/out-app
USER 4242
RUN echo "unknown:$HOME" > /tmp/out-unknown
USER root
ENV HOME=/custom
RUN echo "env:$HOME" > /out-env
`,
  );
  assert.equal(r.code, 0, r.stderr);
  const { rootfs, image } = await unpack('home');
  const read = (p: string) => readFile(join(rootfs, p), 'utf8');
  assert.equal(await read('out-root'), 'root:/root\n');
  assert.equal(await read('out-heredoc'), 'heredoc:/root\n', 'a heredoc body sees $HOME');
  assert.equal(await read('tmp/out-app'), 'app:/home/app\n');
  assert.equal(await read('tmp/out-unknown'), 'unknown:/\n');
  assert.equal(await read('out-env'), 'env:/custom\n');
  const env = image.config.config.Env as string[];
  assert.deepEqual(env, [`PATH=${DEFAULT_PATH}`, 'HOME=/custom'], 'only ENV puts HOME into the image config');
});

// dockerfile2llb/convert.go ("make sure that PATH is always set"): a base config without
// PATH gets the default PATH, and the image config carries it.
test('ENV PATH="/venv/bin:$PATH" on a base without PATH keeps the system PATH, so RUN still finds ls', async () => {
  const r = await build(
    'venv-path',
    `FROM busybox
ENV PATH="/venv/bin:$PATH"
RUN mkdir -p /venv/bin && printf '#!/bin/sh\\necho venv-app ran; ls / > /dev/null && echo ls found\\n' > /venv/bin/app && chmod +x /venv/bin/app
RUN app > /out && echo "$PATH" >> /out
`,
  );
  assert.equal(r.code, 0, r.stderr);
  const { rootfs, image } = await unpack('venv-path');
  assert.equal(await readFile(join(rootfs, 'out'), 'utf8'), `venv-app ran\nls found\n/venv/bin:${DEFAULT_PATH}\n`);
  assert.deepEqual(image.config.config.Env, [`PATH=/venv/bin:${DEFAULT_PATH}`]);
});

test('a base image without PATH gives its child image the default PATH in the config', async () => {
  const r = await build('plain-child', 'FROM busybox\nLABEL a=b\n');
  assert.equal(r.code, 0, r.stderr);
  const { image } = await unpack('plain-child');
  assert.deepEqual(image.config.config.Env, [`PATH=${DEFAULT_PATH}`]);
});

// dockerfile2llb/image.go emptyImage: WorkingDir "/" and the default PATH.
test('a FROM scratch image has WorkingDir "/" and the default PATH in its config', async () => {
  const r = await build('scratch-config', 'FROM scratch\nCOPY a /a\n', { a: 'a\n' });
  assert.equal(r.code, 0, r.stderr);
  const { image } = await unpack('scratch-config');
  assert.equal(image.config.config.WorkingDir, '/');
  assert.deepEqual(image.config.config.Env, [`PATH=${DEFAULT_PATH}`]);
});
