/**
 * The `--augment` levels as the paper uses them: `basic` = the dataset's crop (random crop with padding 4 for
 * CIFAR-style data, random-resized-crop for image folders) + horizontal flip; `strong` = basic + RandAugment
 * (N = 2, M = 10) + Mixup (alpha = 0.5). `--randaugment N,M` and `--mixup ALPHA` override (or add to) a level;
 * N = 0 or alpha = 0 turns them off.
 */
import type { Dataset } from '../dataset.js';
import type { AugmentOptions } from './pipeline.js';
import { parseRandAugment, type RandAugmentOptions } from './randaugment.js';

export const AUGMENT_LEVELS = ['none', 'basic', 'strong'] as const;
export type AugmentLevel = (typeof AUGMENT_LEVELS)[number];

/** The paper's strong augmentation. */
export const STRONG_RANDAUGMENT: RandAugmentOptions = { n: 2, m: 10 };
export const STRONG_MIXUP_ALPHA = 0.5;

/**
 * The augmentation of a training split, or undefined for none.
 *
 * @example
 * ```ts
 * resolveAugment('strong', cifar);              // { crop: 'pad', flip: true, randAugment: { n: 2, m: 10 }, mixup: 0.5 }
 * resolveAugment('none', cifar, { mixup: 0.2 }); // Mixup only
 * ```
 */
export function resolveAugment(
  level: AugmentLevel, ds: Pick<Dataset, 'crop'>, over: { mixup?: number; randAugment?: RandAugmentOptions | string } = {},
): AugmentOptions | undefined {
  if (!AUGMENT_LEVELS.includes(level)) throw new Error(`--augment must be one of ${AUGMENT_LEVELS.join(', ')} (got '${level}')`);
  const o: AugmentOptions = level === 'none' ? { crop: 'none', flip: false } : { crop: ds.crop ?? 'pad', flip: true };
  if (level === 'strong') {
    o.randAugment = STRONG_RANDAUGMENT;
    o.mixup = STRONG_MIXUP_ALPHA;
  }
  if (over.randAugment !== undefined) {
    o.randAugment = typeof over.randAugment === 'string' ? parseRandAugment(over.randAugment) : over.randAugment;
  }
  if (over.mixup !== undefined) {
    if (!(over.mixup >= 0) || !Number.isFinite(over.mixup)) throw new Error(`--mixup must be an alpha >= 0 (got ${over.mixup})`);
    o.mixup = over.mixup;
  }
  if (o.randAugment?.n === 0) delete o.randAugment;
  if (o.mixup === 0) delete o.mixup;
  const any = o.crop !== 'none' || o.flip || o.randAugment || o.mixup;
  return any ? o : undefined;
}
