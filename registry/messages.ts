import { UserError } from '../common/index.js';

/** Every message the registry client can give a user, one per code. */
export const messages = {
  'registry-unreachable': (host: string, cause: string) => `cannot reach registry ${host}: ${cause}`,
  'registry-unauthorized': (host: string) => `unauthorized: authentication required by registry ${host}`,
  'registry-denied': (host: string, what: string) => `denied: ${host} refused access to ${what}`,
  'login-failed': (host: string) => `login to ${host} failed: unauthorized: incorrect username or password`,
  'manifest-unknown': (name: string) => `manifest for ${name} not found: manifest unknown`,
  'digest-mismatch': (what: string, got: string, want: string) => `${what} has digest ${got}, expected ${want}`,
  'size-mismatch': (what: string, got: number, want: number) => `${what} is ${got} bytes, expected ${want}`,
  'blob-too-long': (what: string, want: number) => `${what} is longer than the ${want} bytes its descriptor gives: it was cut off and refused`,
  'document-too-large': (what: string, limitBytes: number) => `${what} is larger than ${limitBytes / (1 << 20)} MiB`,
  'registry-too-slow': (host: string, what: string, seconds: number) => `registry too slow: ${host} did not finish ${what} within ${seconds} s`,
  'diffid-mismatch': (layer: string, want: string, detail: string) =>
    `layer ${layer} does not unpack to the image config's diff_id ${want}${detail ? ` (${detail})` : ''}`,
  'layer-unpack-failed': (layer: string, why: string) => `layer ${layer} cannot be unpacked: ${why}`,
  'unsupported-manifest': (name: string, mediaType: string) => `${name}: unsupported manifest type ${mediaType}`,
  'unsupported-layer': (mediaType: string) => `unsupported layer media type ${mediaType}`,
  'no-matching-platform': (name: string, platform: string, available: string) =>
    `no matching manifest for ${platform} in the manifest list entries of ${name} (available: ${available})`,
  'platform-mismatch': (name: string, want: string, got: string) =>
    `image with reference ${name} was found but does not match the specified platform: wanted ${want}, actual: ${got}`,
  'index-child-missing': (name: string, platform: string) =>
    `cannot push ${name}: its ${platform} image is not in the store (pull it with --platform ${platform}, or build it)`,
  'invalid-platform': (p: string) => `invalid platform "${p}": want os/arch[/variant]`,
  'registry-error': (host: string, what: string, status: number, detail: string) =>
    `${host}: ${what}: HTTP ${status}${detail ? `: ${detail}` : ''}`,
  'image-not-local': (name: string) => `An image does not exist locally with the tag: ${name}`,
  'push-needs-tag': (name: string) => `cannot push ${name}: push a tag, not a digest`,
  'docker-config-io': (path: string, cause: string) => `docker config ${path}: ${cause}`,
  'invalid-manifest': (name: string, why: string) => `${name}: invalid manifest: ${why}`,
} satisfies Record<string, (...args: never[]) => string>;

export type MessageCode = keyof typeof messages;

/** A UserError from the catalogue: `registryError('manifest-unknown', [name], {where})`. */
export function registryError<C extends MessageCode>(
  code: C,
  args: Parameters<(typeof messages)[C]>,
  opts: { where?: string; hint?: string } = {},
): UserError {
  const fn = messages[code] as (...a: Parameters<(typeof messages)[C]>) => string;
  return new UserError(code, fn(...args), opts);
}
