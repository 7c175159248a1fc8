/**
 * Learning-rate schedules: plain `step -> lr` functions (optax's `schedules/_schedule.py` style).
 *
 * Conventions (one for every schedule here):
 * - `step` is the **0-based optimizer step**: the first update uses `schedule(0)`. This is what
 *   PyTorch's `LambdaLR` / timm's step-based schedulers give when `scheduler.step()` is called after
 *   every `optimizer.step()`, and what the optimizers of this package pass (`optimizer.iterations`
 *   before the update).
 * - Warmup is linear over steps `0 .. warmupSteps-1`, starting at `warmupStart` (default 0) and reaching
 *   `peak` exactly at `step = warmupSteps` (HF `get_cosine_schedule_with_warmup`, timm with
 *   `warmup_prefix=True`). Decay runs over steps `warmupSteps .. totalSteps` and reaches its end value
 *   exactly at `step = totalSteps`; later steps stay there.
 *
 * Every schedule made here carries a plain-data `config`, so optimizers can put it in `getConfig()` and
 * {@link scheduleFromConfig} can rebuild it.
 */
import type { Schedule } from './types.js';

/** Plain-data description of a schedule made by this module (JSON-safe). */
export interface ScheduleConfig {
  readonly name: string;
  readonly [key: string]: unknown;
}

/** A schedule that also describes itself as plain data. */
export interface DescribedSchedule extends Schedule {
  readonly config: ScheduleConfig;
}

function described(fn: Schedule, config: ScheduleConfig): DescribedSchedule {
  const checked = (step: number): number => {
    if (!Number.isFinite(step) || step < 0) {
      throw new Error(`schedule ${config.name}: step must be a finite number >= 0, got ${step}`);
    }
    return fn(step);
  };
  return Object.assign(checked, { config: Object.freeze({ ...config }) });
}

function requireFinite(what: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what} must be a finite number, got ${v}`);
}
function requireNonNegInt(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new Error(`${what} must be an integer >= 0, got ${v}`);
}

/**
 * A constant learning rate.
 *
 * @example
 * ```ts
 * const s = constantLR(0.1);
 * s(0); // 0.1
 * s(1000); // 0.1
 * ```
 */
export function constantLR(lr: number): DescribedSchedule {
  requireFinite('constantLR: lr', lr);
  return described(() => lr, { name: 'constantLR', lr });
}

/**
 * Linear interpolation from `init` at step 0 to `end` at step `steps`, constant `end` afterwards
 * (optax `linear_schedule`). `steps = 0` gives `end` everywhere.
 *
 * @example
 * ```ts
 * const warm = linearSchedule({ init: 0, end: 1, steps: 4 });
 * warm(2); // 0.5
 * ```
 */
export function linearSchedule(opts: { init: number; end: number; steps: number }): DescribedSchedule {
  const { init, end, steps } = opts;
  requireFinite('linearSchedule: init', init);
  requireFinite('linearSchedule: end', end);
  requireNonNegInt('linearSchedule: steps', steps);
  return described(
    (t) => (steps === 0 || t >= steps ? end : init + ((end - init) * t) / steps),
    { name: 'linearSchedule', init, end, steps },
  );
}

/**
 * Half-cosine decay from `init` at step 0 to `floor` at step `steps`, constant `floor` afterwards
 * (`CosineAnnealingLR` / optax `cosine_decay_schedule` with alpha = floor / init).
 *
 * @example
 * ```ts
 * const c = cosineDecay({ init: 1, steps: 10 });
 * c(5); // 0.5
 * ```
 */
export function cosineDecay(opts: { init: number; steps: number; floor?: number }): DescribedSchedule {
  const { init, steps, floor = 0 } = opts;
  requireFinite('cosineDecay: init', init);
  requireFinite('cosineDecay: floor', floor);
  requireNonNegInt('cosineDecay: steps', steps);
  return described(
    (t) => (steps === 0 || t >= steps ? floor : floor + (init - floor) * 0.5 * (1 + Math.cos((Math.PI * t) / steps))),
    { name: 'cosineDecay', init, steps, floor },
  );
}

/**
 * Polynomial decay from `init` at step 0 to `end` at step `steps`:
 * `(init - end) * (1 - t/steps)^power + end`, constant `end` afterwards (HF / TF `PolynomialDecay`).
 *
 * @example
 * ```ts
 * const p = polynomialDecay({ init: 1, end: 0, steps: 10, power: 2 });
 * p(5); // 0.25
 * ```
 */
export function polynomialDecay(opts: { init: number; end?: number; steps: number; power?: number }): DescribedSchedule {
  const { init, end = 0, steps, power = 1 } = opts;
  requireFinite('polynomialDecay: init', init);
  requireFinite('polynomialDecay: end', end);
  requireFinite('polynomialDecay: power', power);
  requireNonNegInt('polynomialDecay: steps', steps);
  return described(
    (t) => (steps === 0 || t >= steps ? end : (init - end) * Math.pow(1 - t / steps, power) + end),
    { name: 'polynomialDecay', init, end, steps, power },
  );
}

/**
 * Runs `schedules[0]` until `boundaries[0]`, then `schedules[1]` (with its step counted from the
 * boundary) until `boundaries[1]`, and so on (optax `join_schedules`).
 *
 * @example
 * ```ts
 * const s = joinSchedules([linearSchedule({ init: 0, end: 1, steps: 5 }), constantLR(1)], [5]);
 * s(2); // 0.4
 * s(7); // 1
 * ```
 */
export function joinSchedules(schedules: readonly DescribedSchedule[], boundaries: readonly number[]): DescribedSchedule {
  if (schedules.length === 0 || boundaries.length !== schedules.length - 1) {
    throw new Error(`joinSchedules: need n schedules and n-1 boundaries, got ${schedules.length} and ${boundaries.length}`);
  }
  boundaries.forEach((b, i) => {
    requireNonNegInt(`joinSchedules: boundaries[${i}]`, b);
    if (i > 0 && b < boundaries[i - 1]) throw new Error('joinSchedules: boundaries must be non-decreasing');
  });
  return described(
    (t) => {
      let i = 0;
      while (i < boundaries.length && t >= boundaries[i]) i++;
      return schedules[i](i === 0 ? t : t - boundaries[i - 1]);
    },
    { name: 'joinSchedules', schedules: schedules.map((s) => s.config), boundaries: [...boundaries] },
  );
}

/** Options of {@link cosineWithWarmup}. */
export interface CosineWithWarmupOptions {
  /** The learning rate reached at the end of warmup. */
  peak: number;
  /** Number of warmup steps (0 = no warmup: start at `peak`). */
  warmupSteps: number;
  /** Step at which the cosine reaches `floor` (counted from 0, including warmup). */
  totalSteps: number;
  /** Final learning rate (default 0). */
  floor?: number;
  /** Learning rate at step 0 (default 0). */
  warmupStart?: number;
}

/**
 * Linear warmup from `warmupStart` to `peak` over `warmupSteps` steps, then half-cosine decay to `floor`
 * at `totalSteps` (0-based steps; see the module notes). Known answers: `s(warmupSteps) = peak`,
 * `s((warmupSteps + totalSteps) / 2) = (peak + floor) / 2`, `s(totalSteps) = floor`.
 * Same values as HF `get_cosine_schedule_with_warmup` (with a floor) and timm's `CosineLRScheduler` with
 * `warmup_prefix=True`, `t_initial = totalSteps - warmupSteps`.
 *
 * @example
 * ```ts
 * const s = cosineWithWarmup({ peak: 0.1, warmupSteps: 100, totalSteps: 1000 });
 * s(0); // 0
 * s(100); // 0.1
 * s(550); // 0.05
 * s(1000); // 0
 * ```
 */
export function cosineWithWarmup(opts: CosineWithWarmupOptions): DescribedSchedule {
  const { peak, warmupSteps, totalSteps, floor = 0, warmupStart = 0 } = opts;
  requireFinite('cosineWithWarmup: peak', peak);
  requireNonNegInt('cosineWithWarmup: warmupSteps', warmupSteps);
  requireNonNegInt('cosineWithWarmup: totalSteps', totalSteps);
  if (totalSteps < warmupSteps) {
    throw new Error(`cosineWithWarmup: totalSteps (${totalSteps}) must be >= warmupSteps (${warmupSteps})`);
  }
  const joined = joinSchedules(
    [
      linearSchedule({ init: warmupStart, end: peak, steps: warmupSteps }),
      cosineDecay({ init: peak, steps: totalSteps - warmupSteps, floor }),
    ],
    [warmupSteps],
  );
  return described(joined, { name: 'cosineWithWarmup', peak, warmupSteps, totalSteps, floor, warmupStart });
}

/**
 * Step decay: `base * gamma^floor(step / stepSize)` (PyTorch `StepLR`).
 *
 * @example
 * ```ts
 * const s = stepDecay({ base: 0.1, stepSize: 30, gamma: 0.1 });
 * s(29); // 0.1
 * s(30); // 0.01
 * ```
 */
export function stepDecay(opts: { base: number; stepSize: number; gamma: number }): DescribedSchedule {
  const { base, stepSize, gamma } = opts;
  requireFinite('stepDecay: base', base);
  requireFinite('stepDecay: gamma', gamma);
  if (!Number.isInteger(stepSize) || stepSize < 1) throw new Error(`stepDecay: stepSize must be an integer >= 1, got ${stepSize}`);
  return described((t) => base * Math.pow(gamma, Math.floor(t / stepSize)), { name: 'stepDecay', base, stepSize, gamma });
}

/**
 * Decay by `gamma` at each milestone: `base * gamma^(number of milestones <= step)` (PyTorch `MultiStepLR`).
 *
 * @example
 * ```ts
 * const s = multiStepDecay({ base: 1, milestones: [10, 20], gamma: 0.5 });
 * s(15); // 0.5
 * s(20); // 0.25
 * ```
 */
export function multiStepDecay(opts: { base: number; milestones: readonly number[]; gamma: number }): DescribedSchedule {
  const { base, gamma } = opts;
  const milestones = [...opts.milestones];
  requireFinite('multiStepDecay: base', base);
  requireFinite('multiStepDecay: gamma', gamma);
  milestones.forEach((m, i) => requireNonNegInt(`multiStepDecay: milestones[${i}]`, m));
  return described(
    (t) => base * Math.pow(gamma, milestones.filter((m) => m <= t).length),
    { name: 'multiStepDecay', base, milestones, gamma },
  );
}

/** Options of {@link polynomialDecayWithWarmup}. */
export interface PolynomialDecayWithWarmupOptions {
  peak: number;
  warmupSteps: number;
  totalSteps: number;
  /** Final learning rate (default 0). */
  end?: number;
  /** Exponent of the decay (default 1 = linear, as in LAMB / BERT). */
  power?: number;
  /** Learning rate at step 0 (default 0). */
  warmupStart?: number;
}

/**
 * Linear warmup to `peak`, then polynomial decay to `end` at `totalSteps` (HF
 * `get_polynomial_decay_schedule_with_warmup`; the BERT/LAMB schedule). Same step conventions as
 * {@link cosineWithWarmup}.
 *
 * @example
 * ```ts
 * const s = polynomialDecayWithWarmup({ peak: 1e-3, warmupSteps: 10, totalSteps: 110, power: 1 });
 * s(10); // 1e-3
 * s(60); // 5e-4
 * s(110); // 0
 * ```
 */
export function polynomialDecayWithWarmup(opts: PolynomialDecayWithWarmupOptions): DescribedSchedule {
  const { peak, warmupSteps, totalSteps, end = 0, power = 1, warmupStart = 0 } = opts;
  requireNonNegInt('polynomialDecayWithWarmup: warmupSteps', warmupSteps);
  requireNonNegInt('polynomialDecayWithWarmup: totalSteps', totalSteps);
  if (totalSteps < warmupSteps) {
    throw new Error(`polynomialDecayWithWarmup: totalSteps (${totalSteps}) must be >= warmupSteps (${warmupSteps})`);
  }
  const joined = joinSchedules(
    [
      linearSchedule({ init: warmupStart, end: peak, steps: warmupSteps }),
      polynomialDecay({ init: peak, end, steps: totalSteps - warmupSteps, power }),
    ],
    [warmupSteps],
  );
  return described(joined, { name: 'polynomialDecayWithWarmup', peak, warmupSteps, totalSteps, end, power, warmupStart });
}

/**
 * Rebuilds a schedule from its `config` (as found in `schedule.config` or an optimizer's `getConfig()`).
 *
 * @example
 * ```ts
 * const s = cosineWithWarmup({ peak: 0.1, warmupSteps: 5, totalSteps: 50 });
 * const t = scheduleFromConfig(JSON.parse(JSON.stringify(s.config)));
 * t(20) === s(20); // true
 * ```
 */
export function scheduleFromConfig(config: ScheduleConfig): DescribedSchedule {
  const c = config as Record<string, unknown> & ScheduleConfig;
  const n = (k: string): number => c[k] as number;
  switch (c.name) {
    case 'constantLR': return constantLR(n('lr'));
    case 'linearSchedule': return linearSchedule({ init: n('init'), end: n('end'), steps: n('steps') });
    case 'cosineDecay': return cosineDecay({ init: n('init'), steps: n('steps'), floor: n('floor') });
    case 'polynomialDecay': return polynomialDecay({ init: n('init'), end: n('end'), steps: n('steps'), power: n('power') });
    case 'joinSchedules':
      return joinSchedules((c.schedules as ScheduleConfig[]).map(scheduleFromConfig), c.boundaries as number[]);
    case 'cosineWithWarmup':
      return cosineWithWarmup({ peak: n('peak'), warmupSteps: n('warmupSteps'), totalSteps: n('totalSteps'), floor: n('floor'), warmupStart: n('warmupStart') });
    case 'stepDecay': return stepDecay({ base: n('base'), stepSize: n('stepSize'), gamma: n('gamma') });
    case 'multiStepDecay': return multiStepDecay({ base: n('base'), milestones: c.milestones as number[], gamma: n('gamma') });
    case 'polynomialDecayWithWarmup':
      return polynomialDecayWithWarmup({ peak: n('peak'), warmupSteps: n('warmupSteps'), totalSteps: n('totalSteps'), end: n('end'), power: n('power'), warmupStart: n('warmupStart') });
    default: throw new Error(`scheduleFromConfig: unknown schedule "${String(c.name)}"`);
  }
}

/**
 * A number becomes {@link constantLR}; a function is returned as is.
 *
 * @example
 * ```ts
 * asSchedule(0.1)(7); // 0.1
 * ```
 */
export function asSchedule(lr: number | Schedule): Schedule {
  return typeof lr === 'number' ? constantLR(lr) : lr;
}
