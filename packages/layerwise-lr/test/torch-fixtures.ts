/**
 * A small network with its gradient statistics computed by PyTorch (the generating script is below): the
 * expected values of the gradNorm l2 and frozen-adagrad tests.
 */
import * as tf from '@tensorflow/tfjs';
import { meanSoftmaxCrossEntropy } from '../src/measure.js';
import { paramsFromVariables } from '../src/params.js';
import type { Batch, ParamInfo } from '../src/types.js';

// PyTorch semantics (torch 1.13, float64): a 3-4-2 tanh network with cross-entropy on two batches of 5.
// /usr/bin/python3 script that printed the numbers below (the TORCH_* constants):
//   import torch, json, math
//   torch.set_default_dtype(torch.float64)
//   def det(shape, k):
//       n = math.prod(shape); return torch.tensor([math.sin(k + 0.7 * i) for i in range(n)]).reshape(shape)
//   W1 = det([3, 4], 1.0).requires_grad_(); b1 = (0.1 * det([4], 2.0)).requires_grad_()
//   W2 = det([4, 2], 3.0).requires_grad_(); b2 = (0.1 * det([2], 4.0)).requires_grad_()
//   ps = [W1, b1, W2, b2]
//   batches = [(det([5, 3], 5.0), torch.tensor([0, 1, 1, 0, 1])), (det([5, 3], 6.0), torch.tensor([1, 1, 0, 0, 0]))]
//   opt = torch.optim.Adagrad(ps, lr=0.0)    # an adaptive optimizer run with learning rate 0 for T minibatches
//   G1 = [0.0] * 4; G2 = [0.0] * 4
//   for x, y in batches:
//       opt.zero_grad()
//       torch.nn.functional.cross_entropy(torch.tanh(x @ W1 + b1) @ W2 + b2, y).backward()
//       for i, p in enumerate(ps):
//           G1[i] += p.grad.abs().mean().item(); G2[i] += p.grad.pow(2).mean().sqrt().item()
//       opt.step()                               # lr 0: state_sum += g^2, weights unchanged
//   raw = [1 / (opt.state[p]['sum'].sqrt() + 1e-10) for p in ps]
//   mean = sum(r.sum() for r in raw) / sum(r.numel() for r in raw)
//   print(json.dumps({'G_l1': G1, 'G_l2': G2, 'multipliers': [(r / mean).flatten().tolist() for r in raw]}))
export const TORCH_G_L1 = [0.10724580860195974, 0.06263917577343245, 0.13022746936849494, 0.18842333239152673];
export const TORCH_G_L2 = [0.15603393436248889, 0.0786742880773986, 0.14570697707643152, 0.18842333239152673];
export const TORCH_ADAGRAD_MULTIPLIERS = [
  [0.050799922069984314, 1.330726123351047, 0.04790837970132262, 0.15440244045065354, 0.07395375998122762, 2.064409625294895,
    0.0701287998761545, 0.21039066541332224, 0.460550446977683, 13.50403671307604, 0.5577830320399505, 1.106437376985294],
  [0.13487735067427847, 4.188100016625858, 0.19345133831323622, 0.5297407149950104],
  [0.06927660642951891, 0.06927660642951891, 0.08626262254009852, 0.08626262254009852, 0.25624534847774455, 0.25624534847774455,
    0.15962340993179097, 0.15962340993179094],
  [0.08974365970786775, 0.08974365970786774],
];

/** The network of the torch script above: variables and a loss closure (mean softmax cross-entropy). */
export function torchScriptNet(): { vars: Record<string, tf.Variable>; params: ParamInfo[]; loss: (b: Batch) => tf.Scalar; batches: Batch[] } {
  const det = (shape: number[], k: number) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(k + 0.7 * i)), shape);
  const vars = {
    'fc1.kernel': tf.variable(det([3, 4], 1)),
    'fc1.bias': tf.variable(tf.mul(0.1, det([4], 2))),
    'fc2.kernel': tf.variable(det([4, 2], 3)),
    'fc2.bias': tf.variable(tf.mul(0.1, det([2], 4))),
  };
  const loss = (b: Batch): tf.Scalar => {
    const h = tf.tanh(tf.add(tf.matMul(b.x as tf.Tensor2D, vars['fc1.kernel']), vars['fc1.bias'])) as tf.Tensor2D;
    return meanSoftmaxCrossEntropy(b.y, tf.add(tf.matMul(h, vars['fc2.kernel']), vars['fc2.bias']));
  };
  const batches = [
    { x: det([5, 3], 5), y: tf.tensor1d([0, 1, 1, 0, 1], 'int32') },
    { x: det([5, 3], 6), y: tf.tensor1d([1, 1, 0, 0, 0], 'int32') },
  ];
  return { vars, params: paramsFromVariables(vars), loss, batches };
}
