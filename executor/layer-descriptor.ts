import type { Digest } from '../common/index.js';
import { MediaType, type Descriptor } from '../store/index.js';

/** The descriptor of a layer the store keeps uncompressed: its blob digest is its diff_id. */
export function tarLayerDescriptor(layer: { diffId: Digest; size: number }): Descriptor {
  return { mediaType: MediaType.layerTar, digest: layer.diffId, size: layer.size };
}
