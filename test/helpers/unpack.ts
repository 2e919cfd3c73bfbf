import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../cli/tsbuild.js';

const exec = promisify(execFile);

/**
 * Save `image` from the store as an OCI archive and unpack it with umoci (a tool we did not
 * write): returns the bundle dir (rootfs/ and config.json inside) and the archive path.
 */
export async function saveAndUnpack(root: string, image: string, work: string): Promise<{ bundle: string; archive: string; layout: string }> {
  await mkdir(work, { recursive: true });
  const archive = join(work, 'image-oci.tar');
  const saved = await runCli(['save', '--format', 'oci', '-o', archive, image], { root });
  if (saved.code !== 0) throw new Error(`save failed: ${saved.stderr}`);
  const layout = join(work, 'layout');
  await mkdir(layout, { recursive: true });
  await exec('tar', ['-xf', archive, '-C', layout]);
  const index = JSON.parse((await exec('cat', [join(layout, 'index.json')])).stdout) as {
    manifests: { annotations?: Record<string, string> }[];
  };
  const refName = index.manifests[0]?.annotations?.['org.opencontainers.image.ref.name'] ?? 'latest';
  const bundle = join(work, 'bundle');
  await exec('umoci', ['unpack', '--image', `${layout}:${refName}`, bundle]);
  return { bundle, archive, layout };
}

/** The image config (and manifest) of the first image in an OCI layout directory. */
export async function readLayoutImage(layout: string): Promise<{
  manifest: { layers: { digest: string; mediaType: string; size: number }[]; config: { digest: string } };
  config: {
    config: Record<string, unknown>;
    history: { created?: string; created_by?: string; empty_layer?: boolean }[];
    rootfs: { diff_ids: string[] };
  };
}> {
  const { readFile } = await import('node:fs/promises');
  const blob = async (d: string) => JSON.parse(await readFile(join(layout, 'blobs', 'sha256', d.slice(7)), 'utf8'));
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  const manifest = await blob(index.manifests[0].digest);
  return { manifest, config: await blob(manifest.config.digest) };
}
