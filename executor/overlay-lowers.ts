/**
 * An image may hold one layer twice (`COPY a /a`, `COPY b /b`, `COPY a /a`), but overlayfs
 * refuses a lower dir given twice (ELOOP). The lower of two copies of a layer adds nothing:
 * every path it has, the upper copy has too and decides first, so it is left out.
 */
export function withoutRepeatedLowers(topFirst: readonly string[]): string[] {
  return [...new Set(topFirst)];
}
