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

export async function deliverCallback(options: { url: string; body: string; headers: Record<string, string>; attempts: number; pauseMs?: number }): Promise<CallbackDelivery> {
  const delivery: CallbackDelivery = { url: options.url, body: options.body, status: null, attempts: 0 };
  for (let attempt = 1; attempt <= options.attempts; attempt += 1) {
    delivery.attempts = attempt;
    try {
      const answer = await fetch(options.url, { method: 'POST', headers: options.headers, body: options.body, signal: AbortSignal.timeout(5_000) });
      delivery.status = answer.status;
      await answer.arrayBuffer();
      if (answer.status === 200) return delivery;
    } catch {
      delivery.status = null;
    }
    if (attempt < options.attempts) await new Promise((resolve) => setTimeout(resolve, (options.pauseMs ?? 50) * attempt));
  }
  return delivery;
}
