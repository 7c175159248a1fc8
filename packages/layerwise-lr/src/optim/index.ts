/** Optimizers: torch-exact SGD and AdamW with per-parameter eta, built from small composable transforms. */
export {
  ChainOptimizer, elementEtaRecord, etaFromConfig, etaRecord, lrFromConfig,
  type ChainOptions, type EtaSource, type NamedTensor, type OptimizerOptions, type OptimizerState, type ParamState, type SlotData,
} from './base.js';
export {
  addWeightDecay, masked, scaleByAdam, scaleByLearningRate, traceMomentum,
  type AdamOptions, type MomentumOptions, type ParamMask, type StepContext, type Transform,
} from './transforms.js';
export { decayAll, excludeFromWeightDecay, kernelsOnly, maskConfig, maskFromConfig, type DescribedMask, type ExcludeOptions } from './mask.js';
export {
  ADAMW_STEP_KERNEL, SGD_STEP_KERNEL, fusedAdamWStep, fusedSgdStep, hasFusedKernel, shouldUseFused,
  type AdamWStepAttrs, type FusedMode, type SgdStepAttrs,
} from './fused.js';
export { SGD, type SGDOptions } from './sgd.js';
export { AdamW, type AdamWOptions } from './adamw.js';
export { adamFamilySettings, type AdamFamilyOptions, type AdamFamilySettings } from './adam-options.js';
export { sgdFamilySettings, type SGDFamilyOptions, type SGDFamilySettings } from './sgd-options.js';
export {
  createOptimizer, getOptimizerInfo, listOptimizers, registerOptimizer, type OptimizerFactory, type OptimizerInfo,
} from './registry.js';
export {
  SQUARED_NORM_KERNEL, l2Norm, normalizeGradient, scaleByLarc, scaleByParamNorm, scaleByTrustRatio, squaredNorm,
  type LarcOptions, type NormalizeGradientOptions, type ScaleByParamNormOptions,
} from './norm-transforms.js';
export { SGDNG, type SGDNGOptions } from './sgd-ng.js';
export { AdamNG, type AdamNGOptions } from './adam-ng.js';
export { LARS, type LARSOptions } from './lars.js';
export { LAMB, type LAMBOptions } from './lamb.js';
