import { z } from 'zod';
import { ownerSlotOf, toRoutedError, type ActorRouter, type RoutedAnswer, type RoutedCall } from './actor-routing.ts';

/**
 * Actor routing between the workers of a cluster (`HUB_PROCESSES` > 1), over
 * Node's IPC channel to the primary, which relays each call to the worker in
 * the owning slot and its answer back (scripts/cluster-primary.ts). A slot
 * keeps its number when its worker is replaced, so ownership survives
 * restarts; while a slot has no live worker, its actors' calls run wherever
 * they arrive.
 */

/** A call from slot `from` for the worker in slot `to`. */
export const routeCallMessageSchema = z.object({
  kind: z.literal('route-call'),
  callId: z.number().int(),
  from: z.number().int().nonnegative(),
  to: z.number().int().nonnegative(),
  call: z.unknown(),
});
/** The answer to call `callId` of slot `to`. */
export const routeAnswerMessageSchema = z.object({
  kind: z.literal('route-answer'),
  callId: z.number().int(),
  to: z.number().int().nonnegative(),
  answer: z.unknown(),
});
export type RouteCallMessage = z.infer<typeof routeCallMessageSchema>;
export type RouteAnswerMessage = z.infer<typeof routeAnswerMessageSchema>;

const routedAnswerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('done'), value: z.unknown() }),
  z.object({ kind: z.literal('failed'), error: z.object({ message: z.string(), app: z.any().optional() }) }),
  z.object({ kind: z.literal('undelivered') }),
  z.object({ kind: z.literal('lost') }),
]);

/** The worker's end of the channel: `process.send` and `process.on('message')` in a cluster worker. */
export interface IpcChannel {
  readonly connected: boolean;
  /** `false` only says a backlog builds up (the message is still sent); a failure reaches the callback */
  send(message: RouteCallMessage | RouteAnswerMessage, callback: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/** This process's channel to its cluster primary; null when it was not forked with one. */
export function channelToPrimary(): IpcChannel | null {
  const send = process.send?.bind(process);
  if (!send) return null;
  return {
    get connected() {
      return process.connected;
    },
    // Node takes a callback in the place of the handle
    send: (message, callback) => send(message, callback),
    on: (event, listener) => process.on(event, listener),
  };
}

export class ClusterRouter implements ActorRouter {
  private nextCallId = 0;
  private readonly waiting = new Map<number, (answer: RoutedAnswer) => void>();
  private handler: ((call: RoutedCall) => Promise<unknown>) | null = null;
  private closed = false;

  constructor(private readonly options: { slot: number; slots: number; channel: IpcChannel }) {
    options.channel.on('message', (message) => this.received(message));
  }

  isRemote(key: string): boolean {
    return !this.closed && this.options.slots > 1 && ownerSlotOf(key, this.options.slots) !== this.options.slot;
  }

  forward(key: string, call: RoutedCall): Promise<RoutedAnswer> {
    const callId = (this.nextCallId += 1);
    const to = ownerSlotOf(key, this.options.slots);
    return new Promise<RoutedAnswer>((resolve) => {
      this.waiting.set(callId, resolve);
      this.trySend({ kind: 'route-call', callId, from: this.options.slot, to, call }, () => {
        // never sent: run it here
        if (this.waiting.delete(callId)) resolve({ kind: 'undelivered' });
      });
    });
  }

  serve(handler: (call: RoutedCall) => Promise<unknown>): void {
    this.handler = handler;
  }

  close(): void {
    this.closed = true;
  }

  /** Calls in flight to other processes (for tests and metrics). */
  get inFlight(): number {
    return this.waiting.size;
  }

  private received(message: unknown): void {
    const call = routeCallMessageSchema.safeParse(message);
    if (call.success) {
      void this.answer(call.data);
      return;
    }
    const answer = routeAnswerMessageSchema.safeParse(message);
    if (!answer.success || answer.data.to !== this.options.slot) return;
    const resolve = this.waiting.get(answer.data.callId);
    if (!resolve) return;
    this.waiting.delete(answer.data.callId);
    const parsed = routedAnswerSchema.safeParse(answer.data.answer);
    resolve(
      parsed.success
        ? (parsed.data as RoutedAnswer)
        : { kind: 'failed', error: { message: 'a malformed answer from another hub process' } },
    );
  }

  private async answer({ callId, from, to, call }: RouteCallMessage): Promise<void> {
    let answer: RoutedAnswer;
    if (this.closed || !this.handler || to !== this.options.slot) answer = { kind: 'undelivered' };
    else {
      try {
        answer = { kind: 'done', value: await this.handler(call as RoutedCall) };
      } catch (error) {
        answer = { kind: 'failed', error: toRoutedError(error) };
      }
    }
    // an answer that cannot be sent has no one left to read it: the primary tells the caller its call was lost
    this.trySend({ kind: 'route-answer', callId, to: from, answer }, () => {});
  }

  /** Sends to the primary; `failed` runs when the message did not leave (the channel is closed: this worker is ending). */
  private trySend(message: RouteCallMessage | RouteAnswerMessage, failed: () => void): void {
    const { channel } = this.options;
    if (!channel.connected) {
      failed();
      return;
    }
    try {
      channel.send(message, (error) => {
        if (error) failed();
      });
    } catch {
      failed();
    }
  }
}

/** A slot of the cluster as the relay sees it: its current worker, and whether that one serves yet. */
export interface RelaySlot {
  listening: boolean;
  worker: {
    isConnected(): boolean;
    send(message: RouteCallMessage | RouteAnswerMessage, callback: (error: Error | null) => void): boolean;
  };
}

/**
 * The primary's side (scripts/cluster-primary.ts): a worker's call
 * for an actor another slot owns goes to that slot's worker, and its answer
 * back. A slot without a serving worker answers `undelivered` at once (the
 * caller runs the call itself); a worker that ends with calls in hand has
 * them answered `lost`.
 */
export class RouteRelay {
  /** calls handed on and not answered yet: `from:callId` → the slot that has it */
  private readonly inHand = new Map<string, { from: number; callId: number; to: number }>();

  constructor(private readonly slots: ReadonlyArray<RelaySlot | undefined>) {}

  received(from: number, message: unknown): void {
    const call = routeCallMessageSchema.safeParse(message);
    if (call.success) {
      const { callId, to } = call.data;
      const owner = this.slots[to];
      if (call.data.from !== from || !owner?.listening || !owner.worker.isConnected()) {
        this.answer(from, callId, { kind: 'undelivered' });
        return;
      }
      this.inHand.set(`${from}:${callId}`, { from, callId, to });
      owner.worker.send(call.data, (error: Error | null) => {
        if (error && this.inHand.delete(`${from}:${callId}`)) this.answer(from, callId, { kind: 'undelivered' });
      });
      return;
    }
    const answer = routeAnswerMessageSchema.safeParse(message);
    if (!answer.success) return;
    // an answer for a call already given up (its owner was taken for ended) is dropped
    if (!this.inHand.delete(`${answer.data.to}:${answer.data.callId}`)) return;
    this.send(answer.data.to, answer.data);
  }

  /** The worker in `slot` ended: the calls it had are lost to their callers, and its own calls have no one to answer. */
  ended(slot: number): void {
    for (const [id, entry] of this.inHand) {
      if (entry.to === slot) this.answer(entry.from, entry.callId, { kind: 'lost' });
      if (entry.to === slot || entry.from === slot) this.inHand.delete(id);
    }
  }

  private answer(to: number, callId: number, answer: RoutedAnswer): void {
    this.send(to, { kind: 'route-answer', callId, to, answer });
  }

  private send(to: number, message: RouteAnswerMessage): void {
    const worker = this.slots[to]?.worker;
    // a caller that ended meanwhile needs no answer
    if (worker?.isConnected()) worker.send(message, () => {});
  }
}
