import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DomainEventMessage } from '../../actors/platform/events/publisher.ts';
import { TEST_ADMIN_KEY } from './hub-process.ts';

/** What a chaos test needs around a hub of several processes: a client that retries as a real one does, and a killer. */

export interface Answer {
  status: number;
  /** the worker that answered (X-Hub-Process), NaN when none did */
  pid: number;
  body: Record<string, unknown>;
}

/**
 * One request on a connection of its own: the cluster deals out connections, not requests, so a
 * kept-alive connection would always reach one worker (and a killed worker's would all fail at once).
 */
export function callAlone(
  url: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string>; form?: URLSearchParams; timeoutMs?: number } = {},
): Promise<Answer> {
  const payload =
    options.form !== undefined ? options.form.toString() : options.body === undefined ? undefined : JSON.stringify(options.body);
  const contentType = options.form !== undefined ? 'application/x-www-form-urlencoded' : 'application/json';
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise<Answer>((resolve, reject) => {
    const sent = request(
      url,
      {
        method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
        agent: false,
        timeout: timeoutMs,
        headers: {
          authorization: `Bearer ${TEST_ADMIN_KEY}`,
          ...(payload === undefined ? {} : { 'content-type': contentType, 'content-length': String(Buffer.byteLength(payload)) }),
          ...options.headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown>;
          try {
            body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            body = { text };
          }
          const label = String(response.headers['x-hub-process'] ?? '');
          const pid = Number(/pid=(\d+)/.exec(label)?.[1] ?? Number.NaN);
          if (Number.isInteger(pid)) answeringWorkers.add(pid);
          resolve({ status: response.statusCode ?? 0, pid, body });
        });
      },
    );
    sent.on('error', reject);
    // a connection the primary handed to a worker that then died is never answered (README, "Known limits")
    sent.on('timeout', () => sent.destroy(new Error(`${options.method ?? 'GET'} ${url}: no answer within ${timeoutMs} ms`)));
    sent.end(payload);
  });
}

/** Whether a real client would send the same request again: no answer at all, or the server's fault. */
const worthRetrying = (answer: Answer | null) => answer === null || answer.status >= 500 || answer.status === 429;

/**
 * Sends until the server gives an answer that is not its fault, as a client does with an idempotency
 * key: a dropped connection or a 5xx may or may not have been acted on, and the same key makes a
 * repeat safe. Throws after `giveUpMs` of trying.
 */
export async function callUntilAnswered(
  url: string,
  options: Parameters<typeof callAlone>[1] = {},
  stats?: { retries: number },
  giveUpMs = 180_000,
): Promise<Answer> {
  const deadline = Date.now() + giveUpMs;
  let last = 'nothing';
  for (let attempt = 1; ; attempt += 1) {
    const answer = await callAlone(url, options).catch((error: unknown) => {
      last = error instanceof Error ? error.message : String(error);
      return null;
    });
    if (!worthRetrying(answer)) return answer as Answer;
    if (answer) last = `${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`;
    if (Date.now() > deadline) throw new Error(`${options.method ?? 'GET'} ${url}: no final answer in ${giveUpMs} ms (last: ${last})`);
    if (stats) stats.retries += 1;
    await sleep(Math.min(2_000, 100 * attempt));
  }
}

/** Runs `work` on every item with at most `limit` at once. */
export async function withConcurrency<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/** A port free right now, so that the hub's address stays the same whichever workers die (PORT=0 follows the first). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The live child processes of `pid` (a cluster primary's are its workers). */
export async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((child) => {
      try {
        process.kill(child, 0);
        return true;
      } catch {
        return false;
      }
    });
}

export interface Kill {
  pid: number;
  /** ms since the killer started */
  at: number;
}

/** Workers seen answering (X-Hub-Process): a killer takes only a worker that has started serving. */
export const answeringWorkers = new Set<number>();

/**
 * SIGKILLs a random worker of a cluster primary every `minGapMs`–`maxGapMs`, one at a time, and only
 * when all `workers` are there (the primary restarted the last victim). The victim is one that has
 * answered requests and lived `minAgeMs`: the primary restarts a worker later and later while it keeps
 * dying young (up to 30 s), and a hub whose workers are all waiting to be restarted proves nothing.
 */
export function startKiller(options: {
  primaryPid: number;
  /** asked now and then while a worker has not been seen answering (when the test sends nothing, a restarted one would never be) */
  probeUrl: string;
  workers: number;
  minGapMs: number;
  maxGapMs: number;
  minAgeMs: number;
  minKills: number;
}): { kills: Kill[]; stop(options?: { now?: boolean }): Promise<void> } {
  const kills: Kill[] = [];
  const firstSeen = new Map<number, number>();
  const started = Date.now();
  let stopping = false;
  let abandoned = false;
  const loop = (async () => {
    for (;;) {
      if (abandoned || (stopping && kills.length >= options.minKills)) return;
      const due = Date.now() + options.minGapMs + Math.random() * (options.maxGapMs - options.minGapMs);
      let victim: number | undefined;
      while (victim === undefined) {
        await sleep(250);
        if (abandoned || (stopping && kills.length >= options.minKills)) return;
        const workers = await childrenOf(options.primaryPid);
        for (const pid of workers) if (!firstSeen.has(pid)) firstSeen.set(pid, Date.now());
        if (Date.now() < due || workers.length !== options.workers) continue;
        if (workers.some((pid) => !answeringWorkers.has(pid))) await callAlone(options.probeUrl, { timeoutMs: 2_000 }).catch(() => null);
        const eligible = workers.filter(
          (pid) => answeringWorkers.has(pid) && Date.now() - (firstSeen.get(pid) ?? Date.now()) >= options.minAgeMs,
        );
        victim = eligible[Math.floor(Math.random() * eligible.length)];
      }
      process.kill(victim, 'SIGKILL');
      kills.push({ pid: victim, at: Date.now() - started });
    }
  })();
  return {
    kills,
    /** once `minKills` were made; `now`: at once (a failed test) */
    async stop(stopOptions = {}) {
      stopping = true;
      abandoned = stopOptions.now === true;
      await loop;
    },
  };
}

/** Every message of a JetStream stream, in stream order, through an ordered consumer. */
export async function readWholeStream(nc: NatsConnection, stream: string): Promise<DomainEventMessage[]> {
  const { state } = await (await jetstreamManager(nc)).streams.info(stream);
  const found: DomainEventMessage[] = [];
  if (state.messages === 0) return found;
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  while (found.length < state.messages) {
    const batch = await consumer.fetch({ max_messages: Math.min(5_000, state.messages - found.length), expires: 10_000 });
    let got = 0;
    for await (const m of batch) {
      found.push(m.json<DomainEventMessage>());
      got += 1;
    }
    if (got === 0) throw new Error(`${stream}: read ${found.length} of ${state.messages} messages, then nothing more came`);
  }
  return found;
}
