/**
 * Every model of the lab, by name, as the CLI's `--model` takes them: importing this module imports each family
 * file, and each registers itself in `model-registry.ts` (builder, presets, PyTorch naming, muP width family,
 * weight-decay exclusions, image or language model). A new family is one file that registers, and one import
 * line here.
 */
import './mlp.js';
import './resnet.js';
import './davidnet.js';
import './vit.js';
import './convnext.js';
import './swin.js';
import './gpt.js';

export {
  buildModel, imageOptions, isLanguageModel, modelFamilies, modelInfo, modelNames, registerModel, registerModelFamily,
  type ModelBuilder, type ModelFamily, type ModelInfo, type ModelOptions, type MupWidthFamily,
} from './model-registry.js';
