import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  asSchedule, constantLR, cosineDecay, cosineWithWarmup, joinSchedules, linearSchedule, multiStepDecay,
  polynomialDecay, polynomialDecayWithWarmup, scheduleFromConfig, stepDecay,
} from '../src/schedule.js';

const near = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `got ${a}, expected ${b}`);

test('constantLR / asSchedule', () => {
  const s = constantLR(0.1);
  assert.equal(s(0), 0.1);
  assert.equal(s(12345), 0.1);
  assert.equal(asSchedule(0.3)(7), 0.3);
  const f = (t: number): number => t;
  assert.equal(asSchedule(f), f);
});

test('cosineWithWarmup: known answers at start, mid-warmup, warmup end, mid-decay, end, after end', () => {
  const s = cosineWithWarmup({ peak: 0.1, warmupSteps: 100, totalSteps: 1000 });
  assert.equal(s(0), 0); // step 0 = warmupStart (0-based steps)
  near(s(50), 0.05);
  near(s(99), 0.099);
  assert.equal(s(100), 0.1); // warmup end: exactly peak
  near(s(550), 0.05); // half-way through the decay: (peak + floor) / 2
  near(s(325), 0.1 * 0.5 * (1 + Math.cos(Math.PI / 4))); // a quarter through the decay
  near(s(1000), 0); // end: floor
  assert.equal(s(5000), 0);
});

test('cosineWithWarmup: floor and warmupStart', () => {
  const s = cosineWithWarmup({ peak: 1, warmupSteps: 10, totalSteps: 110, floor: 0.1, warmupStart: 0.5 });
  assert.equal(s(0), 0.5);
  near(s(5), 0.75);
  assert.equal(s(10), 1);
  near(s(60), 0.55);
  near(s(110), 0.1);
  assert.equal(s(200), 0.1);
});

test('cosineWithWarmup: no warmup starts at peak; cosine matches torch CosineAnnealingLR closed form', () => {
  const s = cosineWithWarmup({ peak: 0.2, warmupSteps: 0, totalSteps: 8, floor: 0.02 });
  assert.equal(s(0), 0.2);
  for (let t = 0; t <= 8; t++) near(s(t), 0.02 + 0.5 * (0.2 - 0.02) * (1 + Math.cos((Math.PI * t) / 8)));
});

test('cosineWithWarmup: validation', () => {
  assert.throws(() => cosineWithWarmup({ peak: 0.1, warmupSteps: 10, totalSteps: 5 }), /totalSteps/);
  assert.throws(() => cosineWithWarmup({ peak: 0.1, warmupSteps: 1.5, totalSteps: 5 }), /warmupSteps/);
  assert.throws(() => cosineWithWarmup({ peak: Number.NaN, warmupSteps: 1, totalSteps: 5 }), /peak/);
  const s = cosineWithWarmup({ peak: 0.1, warmupSteps: 1, totalSteps: 5 });
  assert.throws(() => s(-1), /step/);
});

test('stepDecay and multiStepDecay (torch StepLR / MultiStepLR)', () => {
  const s = stepDecay({ base: 0.1, stepSize: 30, gamma: 0.1 });
  assert.equal(s(0), 0.1);
  assert.equal(s(29), 0.1);
  near(s(30), 0.01);
  near(s(65), 0.001);
  assert.throws(() => stepDecay({ base: 0.1, stepSize: 0, gamma: 0.1 }), /stepSize/);
  const m = multiStepDecay({ base: 1, milestones: [10, 20], gamma: 0.5 });
  assert.equal(m(9), 1);
  assert.equal(m(10), 0.5);
  assert.equal(m(25), 0.25);
});

test('polynomialDecayWithWarmup: warmup end, mid-decay, end (HF / BERT-LAMB schedule)', () => {
  const s = polynomialDecayWithWarmup({ peak: 1e-3, warmupSteps: 10, totalSteps: 110 });
  assert.equal(s(0), 0);
  near(s(5), 5e-4);
  assert.equal(s(10), 1e-3);
  near(s(60), 5e-4);
  near(s(110), 0);
  assert.equal(s(500), 0);
  const q = polynomialDecayWithWarmup({ peak: 1, warmupSteps: 0, totalSteps: 100, end: 0.1, power: 2 });
  near(q(50), 0.9 * 0.25 + 0.1);
  near(q(100), 0.1);
});

test('building blocks: linear, cosine, polynomial, join', () => {
  const l = linearSchedule({ init: 1, end: 3, steps: 4 });
  assert.deepEqual([0, 1, 2, 3, 4, 9].map(l), [1, 1.5, 2, 2.5, 3, 3]);
  near(cosineDecay({ init: 1, steps: 10 })(5), 0.5);
  near(polynomialDecay({ init: 1, steps: 10, power: 2 })(5), 0.25);
  const j = joinSchedules([constantLR(1), constantLR(2), linearSchedule({ init: 0, end: 10, steps: 10 })], [3, 5]);
  assert.deepEqual([0, 2, 3, 4, 5, 6, 15, 100].map(j), [1, 1, 2, 2, 0, 1, 10, 10]);
  assert.throws(() => joinSchedules([constantLR(1)], [3]), /n-1 boundaries/);
});

test('every schedule round-trips through its plain-data config (JSON)', () => {
  const all = [
    constantLR(0.1),
    linearSchedule({ init: 0, end: 1, steps: 7 }),
    cosineDecay({ init: 1, steps: 9, floor: 0.1 }),
    polynomialDecay({ init: 1, end: 0.2, steps: 9, power: 3 }),
    joinSchedules([constantLR(1), cosineDecay({ init: 1, steps: 4 })], [2]),
    cosineWithWarmup({ peak: 0.1, warmupSteps: 3, totalSteps: 20, floor: 0.01, warmupStart: 0.001 }),
    stepDecay({ base: 0.1, stepSize: 4, gamma: 0.5 }),
    multiStepDecay({ base: 0.1, milestones: [3, 8], gamma: 0.5 }),
    polynomialDecayWithWarmup({ peak: 0.1, warmupSteps: 3, totalSteps: 20, end: 0.01, power: 2 }),
  ];
  for (const s of all) {
    const again = scheduleFromConfig(JSON.parse(JSON.stringify(s.config)));
    for (let t = 0; t < 25; t++) assert.equal(again(t), s(t), `${s.config.name} at ${t}`);
  }
  assert.throws(() => scheduleFromConfig({ name: 'nope' }), /unknown schedule/);
});
