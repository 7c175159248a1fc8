/**
 * The errors a user can cause, below everything that throws them (train/, sweep/, report/, cli/): each is one
 * line on stderr, and the CLI maps it to its exit code.
 *
 * - {@link UsageError}: the input is wrong (a bad flag, value or file); exit 2 for usage, 1 for run-time input
 *   (a missing or malformed file named with what was expected).
 * - {@link ConfigError}: a value or combination of a run's config is wrong; names the flag; exit 2, and nothing
 *   has been written when it is thrown (`resolveRunConfig` checks everything before a run starts).
 *
 * @example
 * ```ts
 * throw new ConfigError('lr', '--lr must be a finite number >= 0 (got -1)');
 * // lwlr: error: --lr must be a finite number >= 0 (got -1)     (exit 2)
 * ```
 */

/** A user error: printed as one line, exit code 2 (usage) or 1 (run-time input such as a damaged file). */
export class UsageError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

/** A bad value or combination in a run's config; `flag` is the (dashed) flag it is about. Exit code 2. */
export class ConfigError extends UsageError {
  constructor(readonly flag: string, message: string) {
    super(message, 2);
  }
}

/**
 * A multi-line message as one line: the first line, then the others trimmed and joined by '; ' (a table that does
 * not fit a model lists its differences on several lines; the CLI prints one).
 *
 * @example
 * ```ts
 * oneLine('eta table does not match the model:\n  2 missing: a, b\n  1 shape mismatch: c');
 * // 'eta table does not match the model: 2 missing: a, b; 1 shape mismatch: c'
 * ```
 */
export function oneLine(message: string): string {
  const [head = '', ...rest] = message.split('\n').map((l) => l.trim()).filter(Boolean);
  return rest.length ? `${head} ${rest.join('; ')}` : head;
}
