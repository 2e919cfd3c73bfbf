/**
 * store/: the content-addressed OCI image layout on disk — blobs, manifests, refs, extracted
 * layers, cache records, container state, locks. It knows nothing of Dockerfiles.
 * It must never leave a partial file visible: writes are temp → fsync → rename.
 */
export type { Store, BlobWriter, ImageRecord } from './contract.js';
export * from './oci-types.js';
export * from './reference.js';
