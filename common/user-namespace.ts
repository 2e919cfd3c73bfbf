import { readFileSync } from 'node:fs';

/**
 * Whether this process runs in a user namespace other than the host's (rootless mode, or an
 * unprivileged container): there overlayfs keeps its whiteout and opaque marks in
 * `user.overlay.*` xattrs (mounted with `userxattr`), since `trusted.*` needs the host's root.
 * Read once: a process never changes its user namespace after it started. Pure for the
 * bundler, so the launcher (cli/launch.ts), which imports common/ for its paths, leaves it out.
 */
export const inUserNamespace: boolean = /* @__PURE__ */ (() => {
  try {
    // The host's namespace maps every id to itself: "0 0 4294967295".
    const map = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
    return !(map.length === 3 && map[0] === '0' && map[1] === '0' && map[2] === '4294967295');
  } catch {
    return false;
  }
})();

/** The prefix of the overlay xattrs this process's overlay mounts read and write. */
export const overlayXattrPrefix: string = inUserNamespace ? 'user.overlay.' : 'trusted.overlay.';

/** Any overlay xattr, of either kind: they steer overlayfs and are never files' own attributes. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}
