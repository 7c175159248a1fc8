// Layer-wise learning rates for your own TensorFlow.js model, trained on the native backend.
// Works as an ES module and as CommonJS (the install test compiles it both ways and runs it).
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from 'tfjs-backend-onednn';
import { collectParams, cosineWithWarmup, meanSoftmaxCrossEntropy, measureLayerwiseLR, SGD } from 'layerwise-lr';

async function main(): Promise<void> {
  // The native backend, in one line. Without its addon: one warning (why, and the commands that build it),
  // then the same program on TensorFlow.js's pure-JS 'cpu' backend, about 20x slower here.
  await selectBackend('auto');

  const model = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu', name: 'fc1' }),
    tf.layers.dense({ units: 10, name: 'fc2' }) ] });

  // Your data: any (async) iterable of { x, y }, y int labels or one-hot. Here 10 seeded random batches
  // whose label is the largest of the first 10 inputs.
  const batches = Array.from({ length: 10 }, (_, i) => {
    const x = tf.randomNormal([64, 784], 0, 1, 'float32', i + 1);
    return { x, y: x.slice([0, 0], [-1, 10]).argMax(1) };
  });

  // Algorithm 1: T = 10 minibatches without updates; keepInit leaves the model at the measurement init.
  const table = await measureLayerwiseLR(model, batches, { steps: 10, init: 'fan-out', keepInit: true });
  console.log(table.format()); // name, kind, shape, numel, G, eta

  const steps = 200;
  const opt = new SGD(collectParams(model), {
    lr: cosineWithWarmup({ peak: 0.05, warmupSteps: 20, totalSteps: steps }),
    eta: table, momentum: 0.9, weightDecay: 5e-4 });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const { x, y } = batches[step % batches.length]!;
    const loss = opt.minimize(() => meanSoftmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor), true);
    losses.push(loss!.dataSync()[0]!);
    loss!.dispose();
  }
  console.log(`backend ${tf.getBackend()}: loss ${losses[0]!.toFixed(3)} -> ${losses[steps - 1]!.toFixed(3)} in ${steps} steps`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
