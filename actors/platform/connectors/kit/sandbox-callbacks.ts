import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How sandboxes call back (payment webhooks, partner pushes): POST the body,
 * and try again with a short, growing pause until the receiver answers 200
 * or the attempts run out — as the real services do.
 */

export interface CallbackDelivery {
  url: string;
  body: string;
  /** the last answer's status; null when nothing answered */
  status: number | null;
  attempts: number;
}

export async function deliverCallback(options: {
  url: string;
  body: string;
  headers: Record<string, string>;
  attempts: number;
  pauseMs?: number;
  /** which answers count as received (default: 200 only) */
  delivered?: (status: number) => boolean;
  /** stops the attempts and the pauses between them (the sandbox is reset or closing) */
  signal?: AbortSignal;
}): Promise<CallbackDelivery> {
  const delivered = options.delivered ?? ((status: number) => status === 200);
  const delivery: CallbackDelivery = { url: options.url, body: options.body, status: null, attempts: 0 };
  for (let attempt = 1; attempt <= options.attempts && !options.signal?.aborted; attempt += 1) {
    delivery.attempts = attempt;
    try {
      const timeout = AbortSignal.timeout(5_000);
      const answer = await fetch(options.url, {
        method: 'POST',
        headers: options.headers,
        body: options.body,
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      });
      delivery.status = answer.status;
      await answer.arrayBuffer();
      if (delivered(answer.status)) return delivery;
    } catch {
      delivery.status = null;
    }
    if (attempt < options.attempts)
      await sleep((options.pauseMs ?? 50) * attempt, undefined, { signal: options.signal, ref: false }).catch(() => undefined);
  }
  return delivery;
}
