// The annotations of `<root>/oci/index.json` entries (store/index-json.ts). Kept apart,
// with no imports, so the start-up path (cli/build-replay.ts) can read the index cheaply.

/** The full normalised name of an entry: what skopeo looks up in `oci:<root>/oci:<name>`. */
export const REF_NAME = 'org.opencontainers.image.ref.name';
/** Marks the one entry of an image without names (so `<none>` images stay listed and alive). */
export const UNTAGGED = 'io.tsbuild.untagged';
/** The image id (config digest) on each entry, so listing needs no manifest read to group. */
export const IMAGE_ID = 'io.tsbuild.image.id';
