export {
  CLAQ_FORMAT,
  CLAQ_FORMAT_VERSION,
  CLAQ_LAYERS_KEY,
  ClaqCheckpoint,
  LAYER_PARTS,
  layerParts,
  ROW_GRID_PARTS,
  lazyQuantizedLayerTensors,
  loadQuantizedParts,
  partTensorName,
  quantizedLayerTensors,
  saveClaqCheckpoint,
  saveQuantizedParts,
} from './claq-checkpoint.js';
export type { LayerShape, LazyQuantizedLayer, SaveClaqCheckpointOptions } from './claq-checkpoint.js';
export { packCodes, packedCodeBytes, unpackCodes } from './code-packing.js';
export { MAX_CODE_BITS, MAX_ROW_GRID_BITS, memoryContext, validateQuantizedParts } from './validate.js';
export type { PartsContext } from './validate.js';
