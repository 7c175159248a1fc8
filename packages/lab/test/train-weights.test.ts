// Weights I/O (every weight by name, safetensors and TF.js model directories), the CSV metric sink.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { collectParams } from 'layerwise-lr';
import { modelWeights, readWeights, saveWeightsFile, loadWeightsFile } from '../src/train/weights.js';
import { decodeSafetensors } from '../src/safetensors.js';
import { buildModel } from '../src/models/registry.js';
import { csvSink, CSV_COLUMNS } from '../src/train/metrics.js';
import { RunDir } from '../src/train/run-dir.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'lwlr-weights-'));

/** A model with BatchNorm (non-trainable moving statistics), seeded so two builds differ only by seed. */
function bnModel(seed: number, units = 10): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 2], name: 'x' });
  let h = tf.layers.conv2d({ filters: 3, kernelSize: 3, name: 'conv1', kernelInitializer: tf.initializers.glorotNormal({ seed }) }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ name: 'bn1', movingMeanInitializer: tf.initializers.randomNormal({ seed }) }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten({ name: 'flat' }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units, name: 'fc', kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

test('modelWeights: trainable names as collectParams, BatchNorm statistics by the same rule', async () => {
  await tf.setBackend('cpu');
  const m = bnModel(1);
  assert.deepEqual(modelWeights(m).map((w) => [w.name, w.trainable]), [
    ['conv1.kernel', true], ['conv1.bias', true], ['bn1.gamma', true], ['bn1.beta', true],
    ['bn1.moving_mean', false], ['bn1.moving_variance', false], ['fc.kernel', true], ['fc.bias', true],
  ]);
  m.dispose();
  const r = buildModel('resnet18-cifar', { inputShape: [8, 8, 3], numClasses: 10 });
  const names = modelWeights(r).filter((w) => w.trainable).map((w) => w.name);
  assert.deepEqual(names, collectParams(r).map((p) => p.name));
  assert.ok(modelWeights(r).some((w) => w.name === 'layer1.0.bn1.moving_variance'), modelWeights(r).map((w) => w.name).slice(0, 12).join(' '));
  r.dispose();
});

for (const kind of ['safetensors', 'tfjs'] as const) {
  test(`weights round trip (${kind}): every weight restored exactly, outputs equal`, async () => {
    await tf.setBackend('cpu');
    const a = bnModel(1);
    const b = bnModel(2);
    assert.notDeepEqual(readWeights(a), readWeights(b));
    const file = kind === 'safetensors' ? path.join(tmp(), 'w.safetensors') : path.join(tmp(), 'model');
    await saveWeightsFile(a, file, { model: 'test' });
    loadWeightsFile(b, file);
    assert.deepEqual(readWeights(b), readWeights(a));
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 3);
    assert.deepEqual(Array.from((b.predict(x) as tf.Tensor).dataSync()), Array.from((a.predict(x) as tf.Tensor).dataSync()));
    if (kind === 'safetensors') {
      const st = decodeSafetensors(readFileSync(file));
      assert.deepEqual(Object.keys(st.tensors), modelWeights(a).map((w) => w.name));
      assert.equal(st.metadata?.layout, 'tfjs');
    } else {
      assert.ok(existsSync(path.join(file, 'weights.bin')));
      // a standard TF.js model: tfjs reads it with its own loader
      const json = JSON.parse(readFileSync(path.join(file, 'model.json'), 'utf8'));
      const bin = readFileSync(path.join(file, 'weights.bin'));
      const c = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      }));
      assert.deepEqual(Array.from((c.predict(x) as tf.Tensor).dataSync()), Array.from((a.predict(x) as tf.Tensor).dataSync()));
      c.dispose();
      loadWeightsFile(b, path.join(file, 'model.json')); // the model.json path works too
    }
    tf.dispose([a, b, x] as unknown as tf.Tensor[]);
  });
}

test('weights that do not fit: one line naming the file and the first differences, nothing changed', async () => {
  await tf.setBackend('cpu');
  const a = bnModel(1, 7);
  const b = bnModel(2);
  const file = path.join(tmp(), 'w.safetensors');
  await saveWeightsFile(a, file);
  const before = readWeights(b);
  assert.throws(() => loadWeightsFile(b, file, '--init-weights w.safetensors'), (e: Error) => {
    assert.equal(e.message.split('\n').length, 1);
    assert.match(e.message, /^--init-weights w\.safetensors: does not fit the model \(2 difference\(s\): fc\.kernel has shape \[48,7\] in the file, \[48,10\] in the model; fc\.bias has shape \[7\] in the file, \[10\] in the model\)$/);
    return true;
  });
  assert.deepEqual(readWeights(b), before);
  const mlp = buildModel('mlp', { inputShape: [6, 6, 2], numClasses: 10, width: 4 });
  assert.throws(() => loadWeightsFile(mlp, file), /does not fit the model \(\d+ difference\(s\): missing fc1\.kernel; missing fc1\.bias; .*; \.\.\.\)$/);
  assert.throws(() => loadWeightsFile(mlp, path.join(tmp(), 'nope.safetensors'), '--init-weights nope'), /--init-weights nope: no such file or directory$/);
  tf.dispose([a, b, mlp] as unknown as tf.Tensor[]);
});

test('metrics.csv: a header of stable columns, one row per record, history first', () => {
  const dir = new RunDir(tmp());
  const history = [{ type: 'train' as const, epoch: 1, step: 1, loss: 2.5, lr: 0.1, imagesPerSec: 100, time: 0.5 }];
  dir.addSink(csvSink(dir.file('metrics.csv'), history));
  dir.log({ type: 'eval', epoch: 1, step: 2, trainLoss: 2, testLoss: 1.5, testAcc: 0.25, valLoss: 1.75, valAcc: 0.5, time: 1 });
  dir.close();
  const lines = readFileSync(dir.file('metrics.csv'), 'utf8').trim().split('\n');
  assert.equal(lines[0], 'type,epoch,step,loss,lr,imagesPerSec,trainLoss,testLoss,testAcc,testTop5,valLoss,valAcc,time');
  assert.equal(lines[0].split(',').length, CSV_COLUMNS.length);
  assert.equal(lines[1], 'train,1,1,2.5,0.1,100,,,,,,,0.5');
  assert.equal(lines[2], 'eval,1,2,,,,2,1.5,0.25,,1.75,0.5,1');
  assert.equal(readFileSync(dir.file('metrics.jsonl'), 'utf8').trim().split('\n').length, 1, 'the JSONL has what was logged');
});
