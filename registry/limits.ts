/**
 * How much of a registry's answer is read into memory. Manifests, indexes and image configs
 * are JSON read whole: at most 4 MiB each, as containerd (core/remotes/docker/resolver.go,
 * MaxManifestSize) and so Docker accept; an error body is read for its first 64 KiB only,
 * as containerd's remotes/errors does. Blobs are streamed, never held, and never longer
 * than their descriptor says (blob-download.ts).
 */
export const MAX_DOCUMENT_BYTES = 4 << 20;
export const MAX_ERROR_BODY_BYTES = 64 << 10;
