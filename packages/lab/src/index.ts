/** lwlr-lab: models, data, training loop and CLI pieces of layerwise-lr. */
export * from './data/dataset.js';
export * from './data/idx.js';
export * from './data/fashion-mnist.js';
export * from './data/synthetic.js';
export * from './data/registry.js';
export * from './data/batches.js';
export * from './models/mlp.js';
export * from './models/registry.js';
export * from './safetensors.js';
export * from './train/metrics.js';
export * from './train/setup.js';
export * from './train/loop.js';
export * from './models/resnet.js';
export * from './models/zoo.js';
