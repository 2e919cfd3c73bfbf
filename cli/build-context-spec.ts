import type { BuildContextSource } from '../engine/index.js';
import { usageError } from './args.js';

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * `--build-context NAME=VALUE` as buildx reads it (util/buildflags/context.go, build/opt.go):
 * `docker-image://REF`, `oci-layout://PATH[:TAG][@DIGEST]` (util/ocilayout/parse.go), a
 * remote URL (`https://`, `http://`, `git://`, `ssh://`, `git@`), else a local directory.
 */
export function parseBuildContext(spec: string): [string, BuildContextSource] {
  const eq = spec.indexOf('=');
  if (eq < 0) throw usageError(`invalid context value: ${spec}, expected key=value`);
  const name = spec.slice(0, eq);
  const value = spec.slice(eq + 1);
  if (name === '') throw usageError(`invalid context value: ${spec}, the name is empty`);
  if (value === '') throw usageError(`invalid context value: ${spec}, the source is empty`);
  if (value.startsWith('docker-image://')) return [name, { type: 'image', ref: value.slice('docker-image://'.length) }];
  if (value.startsWith('oci-layout://')) return [name, ociLayout(value.slice('oci-layout://'.length))];
  if (/^(https?|git|ssh):\/\//.test(value) || value.startsWith('git@')) return [name, { type: 'url', url: value }];
  return [name, { type: 'dir', path: value }];
}

/** buildx's ocilayout.Parse: `@DIGEST` last, then `:TAG` when what follows the colon is a tag. */
function ociLayout(rest: string): BuildContextSource {
  let path = rest;
  let digest: string | undefined;
  let tag: string | undefined;
  const at = path.lastIndexOf('@');
  if (at >= 0 && DIGEST.test(path.slice(at + 1))) {
    digest = path.slice(at + 1);
    path = path.slice(0, at);
  }
  const colon = path.lastIndexOf(':');
  if (colon >= 0 && TAG.test(path.slice(colon + 1))) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
  }
  return { type: 'oci-layout', path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}
