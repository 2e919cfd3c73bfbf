import { UserError } from '../common/index.js';

/**
 * Docker image references, normalised as Docker does (distribution/reference):
 * `debian` → docker.io/library/debian:latest, `host:5000/x/y:t`, `name@sha256:…`.
 */
export interface ImageReference {
  /** Registry host, with port: `docker.io`, `127.0.0.1:5000`. */
  domain: string;
  /** Repository path without the domain: `library/debian`. */
  path: string;
  /** Tag; `latest` when neither tag nor digest was given. Undefined for a digest-only ref. */
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[a-fA-F0-9:]+\](?::[0-9]+)?$/;

/** Parse and normalise a reference; throws UserError('invalid-reference') naming it. */
export function parseReference(input: string): ImageReference {
  const bad = (why: string) =>
    new UserError('invalid-reference', `invalid reference format: ${why}`, { where: input });
  if (input.length === 0) throw bad('empty name');
  if (input.length > 255) throw bad('name too long');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`"${digest}" is not a sha256 digest`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`"${tag}" is not a valid tag`);
  }
  let domain = 'docker.io';
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first;
      path = rest.slice(slash + 1);
      if (!DOMAIN.test(domain)) throw bad(`"${domain}" is not a valid registry host`);
    }
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (path.length === 0) throw bad('empty repository name');
  for (const c of path.split('/')) {
    if (!COMPONENT.test(c)) {
      throw bad(
        c !== c.toLowerCase() ? 'repository name must be lowercase' : `"${c}" is not a valid repository name component`,
      );
    }
  }
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { domain, path, tag, digest };
}

/** The full repository name: `docker.io/library/debian`. */
export function repositoryOf(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full normalised string: `docker.io/library/debian:latest` or `…@sha256:…`. */
export function formatReference(ref: ImageReference): string {
  let s = repositoryOf(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** Normalise a user-typed name: `saluda` → `docker.io/library/saluda:latest`. */
export function normaliseName(input: string): string {
  return formatReference(parseReference(input));
}

/**
 * The name among `names` that `ref` spells out, if any: undefined when `ref` named the image
 * by id or digest (or is not a valid name at all).
 */
export function nameAmong(ref: string, names: readonly string[]): string | undefined {
  try {
    const full = normaliseName(ref);
    return names.includes(full) ? full : undefined;
  } catch {
    return undefined;
  }
}

/** The familiar repository Docker shows: `debian`, `me/app`, `127.0.0.1:5000/x`. */
export function familiarRepository(ref: ImageReference): string {
  if (ref.domain === 'docker.io') {
    return ref.path.startsWith('library/') ? ref.path.slice('library/'.length) : ref.path;
  }
  return repositoryOf(ref);
}

/** The familiar full string: `debian:latest`, `127.0.0.1:5000/x:1`. */
export function familiarName(ref: ImageReference): string {
  let s = familiarRepository(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The registry host to contact: docker.io is served by registry-1.docker.io. */
export function registryHost(ref: ImageReference): string {
  return ref.domain === 'docker.io' ? 'registry-1.docker.io' : ref.domain;
}
