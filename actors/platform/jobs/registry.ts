import type { Agenda } from 'agenda';
import type { Collection, Db } from 'mongodb';
import type { Logger } from 'winston';
import { errors } from '../../../common/errors.ts';
import { AGENDA_COLLECTION, JOB_TOUCH_EVERY_MS, jobStatusCollection, type JobStatusDoc } from '../../../persistence/scheduler.ts';

/** What a job may be called (`novaposhta-tracking`, `marketplace-orders:uzum`): it is the admin API's path and Agenda's name. */
export const JOB_NAME = /^[a-z][a-z0-9-]{1,63}(?::[a-z][a-z0-9-]{1,39})?$/;

export interface JobDefinition {
  name: string;
  description: string;
  /** Agenda interval ("10 minutes", "1 day") or cron expression */
  every: string;
  /** the time zone a cron expression is read in (IANA, e.g. Europe/Kyiv); default the process's */
  timeZone?: string;
  /** a synchronisation with this integration: its runs count towards the sync success rate */
  syncs?: string;
  run(context: {
    logger: Logger;
    trigger: 'schedule' | 'manual';
    progress: (state: Record<string, unknown>) => void;
  }): Promise<Record<string, unknown> | void>;
}

export interface JobView {
  name: string;
  description: string;
  schedule: string;
  nextRunAt: string | null;
  running: boolean;
  /** what a running job last said of its progress (e.g. pages done of pages) */
  progress: Record<string, unknown> | null;
  lastRun: {
    at: string | null;
    finishedAt: string | null;
    result: 'ok' | 'failed' | null;
    error: string | null;
    durationMs: number | null;
    trigger: 'schedule' | 'manual' | null;
    output: Record<string, unknown> | null;
  };
  runs: number;
}

export interface JobRunResult {
  name: string;
  result: 'ok' | 'failed';
  durationMs: number;
  output: Record<string, unknown> | null;
  error: string | null;
}

/**
 * Scheduled jobs: defined here, scheduled by Agenda, observable and runnable
 * by hand through the admin API. Runs of one job never overlap within a process.
 */
export class JobRegistry {
  private readonly definitions = new Map<string, JobDefinition>();
  private readonly running = new Map<string, Promise<JobRunResult>>();
  /** a manual run asked for while one was running: it starts when that one ends */
  private readonly followUps = new Map<string, Promise<JobRunResult>>();
  private readonly progress = new Map<string, Record<string, unknown>>();
  private readonly statuses: Collection<JobStatusDoc>;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    /** told about every finished run (monitoring) */
    private readonly onFinished?: (definition: JobDefinition, result: JobRunResult) => void,
  ) {
    this.statuses = jobStatusCollection.open(db);
  }

  define(definition: JobDefinition): this {
    if (!JOB_NAME.test(definition.name) || definition.name in Object.prototype)
      throw new Error(`job name "${definition.name}" must match ${JOB_NAME} (and not be a property every object has)`);
    if (this.definitions.has(definition.name)) throw new Error(`job "${definition.name}" is defined twice`);
    this.definitions.set(definition.name, definition);
    return this;
  }

  defineAll(definitions: readonly JobDefinition[]): this {
    for (const definition of definitions) this.define(definition);
    return this;
  }

  async schedule(agenda: Agenda): Promise<void> {
    for (const definition of this.definitions.values()) {
      agenda.define(definition.name, async (job) => {
        // a long run keeps its lock: without a touch within the lock's lifetime Agenda takes it for dead
        const heartbeat = setInterval(() => void job.touch().catch(() => undefined), JOB_TOUCH_EVERY_MS);
        try {
          const outcome = await this.run(definition.name, 'schedule');
          if (outcome.result === 'failed') throw new Error(outcome.error ?? 'job failed');
        } finally {
          clearInterval(heartbeat);
        }
      });
      await agenda.every(definition.every, definition.name, undefined, {
        skipImmediate: true,
        ...(definition.timeZone ? { timezone: definition.timeZone } : {}),
      });
    }
  }

  /**
   * Runs a job now. Runs of one job never overlap in this process: a scheduled
   * tick during a run joins it, but a manual request during a run waits for it
   * and then runs once more — the run in progress may have read its work
   * before what the operator asked about existed. Requests made while that
   * follow-up waits join it.
   */
  run(name: string, trigger: 'schedule' | 'manual'): Promise<JobRunResult> {
    // a closed list, kept in a Map: any other name (`constructor` too) is not found
    const definition = this.definitions.get(name);
    if (!definition) throw errors.notFound(`job ${name}`, { known: [...this.definitions.keys()] });
    const inFlight = this.running.get(name);
    if (!inFlight) return this.start(definition, trigger);
    if (trigger === 'schedule') return inFlight;
    const waiting = this.followUps.get(name);
    if (waiting) return waiting;
    const followUp = inFlight
      .catch(() => undefined)
      .then(() => {
        this.followUps.delete(name);
        // a scheduled tick may have slipped in between: wait for it in turn
        return this.running.has(name) ? this.run(name, 'manual') : this.start(definition, 'manual');
      });
    this.followUps.set(name, followUp);
    return followUp;
  }

  private start(definition: JobDefinition, trigger: 'schedule' | 'manual'): Promise<JobRunResult> {
    const run = this.execute(definition, trigger).finally(() => this.running.delete(definition.name));
    this.running.set(definition.name, run);
    return run;
  }

  async list(): Promise<JobView[]> {
    const [statuses, scheduled] = await Promise.all([
      this.statuses.find({}).toArray(),
      this.db
        .collection<{ name: string; nextRunAt?: Date | null }>(AGENDA_COLLECTION)
        .find({}, { projection: { name: 1, nextRunAt: 1 } })
        .toArray(),
    ]);
    const statusOf = new Map(statuses.map((s) => [s._id, s]));
    const nextOf = new Map(scheduled.map((j) => [j.name, j.nextRunAt ?? null]));
    return [...this.definitions.values()].map((definition) => {
      const status = statusOf.get(definition.name);
      const next = nextOf.get(definition.name);
      return {
        name: definition.name,
        description: definition.description,
        schedule: `every ${definition.every}`,
        nextRunAt: next ? next.toISOString() : null,
        running: this.running.has(definition.name),
        progress: this.running.has(definition.name) ? (this.progress.get(definition.name) ?? null) : null,
        lastRun: {
          at: status?.lastRunAt?.toISOString() ?? null,
          finishedAt: status?.lastFinishedAt?.toISOString() ?? null,
          result: status?.lastResult ?? null,
          error: status?.lastError ?? null,
          durationMs: status?.lastDurationMs ?? null,
          trigger: status?.lastTrigger ?? null,
          output: status?.lastOutput ?? null,
        },
        runs: status?.runs ?? 0,
      };
    });
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values(), ...this.followUps.values()]);
  }

  private async execute(definition: JobDefinition, trigger: 'schedule' | 'manual'): Promise<JobRunResult> {
    const startedAt = new Date();
    const logger = this.logger.child({ job: definition.name });
    let output: Record<string, unknown> | null = null;
    let error: string | null = null;
    try {
      const progress = (state: Record<string, unknown>) => {
        this.progress.set(definition.name, { ...state, at: new Date().toISOString() });
        logger.info('job progress', state);
      };
      output = (await definition.run({ logger, trigger, progress })) ?? null;
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
      logger.error('job failed', { error, trigger });
    }
    this.progress.delete(definition.name);
    const finishedAt = new Date();
    const durationMs = finishedAt.getTime() - startedAt.getTime();
    const result = error ? 'failed' : 'ok';
    const previous = await this.statuses.findOne({ _id: definition.name });
    await this.statuses.replaceOne(
      { _id: definition.name },
      {
        lastRunAt: startedAt,
        lastFinishedAt: finishedAt,
        lastResult: result,
        lastError: error,
        lastDurationMs: durationMs,
        lastOutput: output,
        lastTrigger: trigger,
        runs: (previous?.runs ?? 0) + 1,
      },
      { upsert: true },
    );
    logger.info('job finished', { result, durationMs, trigger });
    const outcome: JobRunResult = { name: definition.name, result, durationMs, output, error };
    this.onFinished?.(definition, outcome);
    return outcome;
  }
}
