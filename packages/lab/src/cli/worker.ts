/**
 * `lwlr worker --queue URL`: runs the trials `lwlr sweep --queue URL` puts on the queue, on this machine, until
 * Ctrl-C (once: finish the running trials; twice: hand them back to the queue; three times: kill them) or
 * SIGTERM (hand them back).
 */
import { helpText, parseFlags, UsageError, type FlagSpecs } from './args.js';

const FLAGS: FlagSpecs = {
  queue: { type: 'string', help: 'redis://HOST:PORT[/DB]: the Redis the sweep enqueued its trials on' },
  concurrency: { type: 'int', default: 1, help: 'trials at once' },
  threads: { type: 'int', default: 1, help: 'native threads per trial (1 gives the numbers of a local sweep bit for bit)' },
  'trials-dir': { type: 'string', default: 'lwlr-trials', help: 'where trials train and keep their checkpoints (<dir>/<sweep>/<trial>/); on storage the workers share, a trial another worker left resumes from its checkpoint' },
  'lock-seconds': { type: 'int', default: 30, help: "how long a job's lock lasts without renewal: a dead worker's trial goes to another worker after this" },
  help: { type: 'boolean', help: 'show this help' },
};

export async function workerCommand(argv: string[]): Promise<number> {
  const { flags: f, positional } = parseFlags(argv, FLAGS);
  if (f.help) {
    console.log(helpText('worker', 'Run the trials of lwlr sweep --queue on this machine (each as an lwlr train process); small files go back to the sweep, checkpoints stay here.', FLAGS));
    return 0;
  }
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}' (lwlr worker takes flags only)`);
  if (!f.queue) throw new UsageError('--queue redis://HOST:PORT[/DB] is required');
  for (const k of ['concurrency', 'threads', 'lockSeconds'] as const) {
    if ((f[k] as number) < 1) throw new UsageError(`--${k === 'lockSeconds' ? 'lock-seconds' : k} must be >= 1 (got ${f[k]})`);
  }
  const { TrialWorker } = await import('../sweep/queue/worker.js');
  const worker = new TrialWorker({
    url: f.queue as string, concurrency: f.concurrency as number, threads: f.threads as number,
    trialsDir: f.trialsDir as string, lockSeconds: f.lockSeconds as number,
  });
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts >= 3) process.exit(130);
    worker.stop();
  };
  const onSigterm = () => worker.handBack();
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    await worker.run();
    return interrupts > 0 ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}
