/**
 * Preloaded into every test process of this package (the `test` script's `node --import`). The tests run on
 * TensorFlow.js's pure-JS `cpu` backend on purpose (exact values against references), so the backend's one-time
 * "install tfjs-node to speed things up" banner is noise here: every `cpu` backend the engine makes starts with
 * it off. (tfjs-backend-onednn does the same once its native backend is registered; importing that here would
 * also make `onednn` the default backend of tests that pick none.)
 */
import * as tf from '@tensorflow/tfjs';

const entry = tf.engine().registryFactory.cpu;
if (entry !== undefined) {
  const make = entry.factory;
  entry.factory = () => {
    const backend = make() as tf.KernelBackend & { firstUse?: boolean };
    backend.firstUse = false;
    return backend;
  };
}
