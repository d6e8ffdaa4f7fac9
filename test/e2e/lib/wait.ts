// Polling helper for e2e tests: wait until a condition holds, or fail saying what was awaited
// and the last observed value.
export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

export class WaitTimeoutError extends Error {
  readonly code = 'e2e-wait-timeout';
  constructor(message: string) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

/** Thrown by a probe to stop waiting at once (e.g. the daemon being waited for has exited). */
export class WaitAbort extends Error {
  readonly code = 'e2e-wait-abort';
  constructor(message: string) {
    super(message);
    this.name = 'WaitAbort';
  }
}

/**
 * Calls `probe` until it returns a truthy value (returned) or the timeout passes. Exceptions
 * from the probe count as "not yet" (the last one is reported on timeout).
 */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeout = opts.timeoutMs ?? 20_000;
  const interval = opts.intervalMs ?? 100;
  const t0 = Date.now();
  let last: unknown = undefined;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      if (err instanceof WaitAbort) throw err;
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() - t0 > timeout) {
      throw new WaitTimeoutError(`timed out after ${timeout} ms waiting for ${what} (last: ${typeof last === 'string' ? last : JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
