import { UserError } from './errors.js';

/**
 * Platforms as containerd's platforms package reads, normalises and matches them
 * (github.com/containerd/platforms: parse.go, database.go, compare.go). The planner, the
 * registry and the store all pick images by platform, so the rules live here once.
 */

/** An OCI platform (image-spec descriptor `platform`, image config os/architecture/variant). */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The machine tsbuild runs on: what `local`, the default and BUILDPLATFORM name. */
export function hostPlatform(): Platform {
  return normalisePlatform({ os: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch });
}

/** containerd's Normalize: aarch64 → arm64 (v8 is its default, so dropped), x86_64 → amd64, arm → arm/v7 … */
export function normalisePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() ?? '';
  switch (architecture) {
    case 'i386':
      architecture = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      architecture = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (variant === '8' || variant === 'v8' || variant === 'v8.0') variant = '';
      else if (variant === '9' || variant === '9.0' || variant === 'v9.0') variant = 'v9';
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** `linux/arm64`, `linux/arm/v7`, `local` → a normalised Platform; anything else: one UserError. */
export function parsePlatformSpec(spec: string): Platform {
  if (spec === 'local') return hostPlatform();
  const parts = spec.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => x === '')) {
    throw new UserError('invalid-platform', `invalid platform "${spec}": want os/arch[/variant] or local`, { where: spec, exitCode: 2 });
  }
  const [os, architecture, variant] = parts;
  return normalisePlatform(variant ? { os, architecture, variant } : { os, architecture });
}

/** `--platform a,b,…` in the order given, duplicates (after normalising) dropped. */
export function parsePlatformList(spec: string): Platform[] {
  const out: Platform[] = [];
  for (const s of spec.split(',').map((x) => x.trim()).filter(Boolean)) {
    const p = parsePlatformSpec(s);
    if (!out.some((q) => samePlatform(q, p))) out.push(p);
  }
  if (out.length === 0) throw new UserError('invalid-platform', 'invalid platform "": want os/arch[/variant] or local', { where: spec, exitCode: 2 });
  return out;
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Equal once normalised (containerd's NewMatcher: arm64 == arm64/v8). */
export function samePlatform(a: Platform, b: Platform): boolean {
  const x = normalisePlatform(a);
  const y = normalisePlatform(b);
  return x.os === y.os && x.architecture === y.architecture && (x.variant ?? '') === (y.variant ?? '');
}

/**
 * containerd's platformVector: what `want` can run, best first (compare.go `Only`): arm/v7
 * then v6, v5; arm64 then arm/v8 … v5; amd64/vN then lower levels, then 386.
 * (arm64/v9.x's v8.{x+5} fallbacks are left out: no image index we meet lists them.)
 */
function platformVector(want: Platform): Platform[] {
  const p = normalisePlatform(want);
  const out: Platform[] = [p];
  const level = (v: string | undefined) => Number.parseInt((v ?? '').replace(/^v/, ''), 10);
  switch (p.architecture) {
    case 'amd64': {
      for (let n = level(p.variant) - 1; n >= 1; n--) out.push({ os: p.os, architecture: 'amd64', ...(n > 1 ? { variant: `v${n}` } : {}) });
      out.push({ os: p.os, architecture: '386' });
      break;
    }
    case 'arm':
      for (let n = level(p.variant) - 1; n >= 5; n--) out.push({ os: p.os, architecture: 'arm', variant: `v${n}` });
      break;
    case 'arm64': {
      const v = p.variant ?? 'v8';
      out.push(...platformVector({ os: p.os, architecture: 'arm', variant: v.startsWith('v8.') || v.startsWith('v9') ? 'v8' : v }));
      break;
    }
  }
  return out;
}

/** The candidate `want` runs best (containerd's `platforms.Only(want)` ordering), or undefined. */
export function bestPlatformMatch<T>(candidates: readonly T[], want: Platform, platformOf: (c: T) => Platform | undefined): T | undefined {
  for (const p of platformVector(want)) {
    const hit = candidates.find((c) => {
      const cp = platformOf(c);
      return cp !== undefined && samePlatform(cp, p);
    });
    if (hit !== undefined) return hit;
  }
  return undefined;
}
