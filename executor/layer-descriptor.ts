import type { Digest } from '../common/index.js';
import { MediaType, type Descriptor } from '../store/index.js';

/** The descriptor of a layer the store keeps uncompressed: its blob digest is its diff_id. */
export function tarLayerDescriptor(layer: { diffId: Digest; size: number; contentBytes: number }): Descriptor {
  return {
    mediaType: MediaType.layerTar,
    digest: layer.diffId,
    size: layer.size,
    // The store's SIZE needs the regular-file bytes; known here, so the layer is not read again.
    annotations: { 'io.tsbuild.content-size': String(layer.contentBytes) },
  };
}
