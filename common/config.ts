import path from 'node:path';
import { z } from 'zod';

/**
 * Configuration comes from the environment, is validated once at start, and
 * every problem is reported with the variable to set. Secrets never appear in
 * messages.
 */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'debug'] as const;

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  mongodbUri?: string;
  mongodbDb: string;
  dataDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  adminApiKey?: string;
  masterKey?: Buffer;
  publicBaseUrl: string;
  actorCacheSize: number;
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  effectMaxAttempts: number;
  effectLeaseMs: number;
  workerPollMs: number;
}

const SIZE = /^(\d+)\s*(b|kb|mb)?$/i;

function parseSize(value: string): number | null {
  const match = SIZE.exec(value.trim());
  if (!match) return null;
  const amount = Number(match[1]);
  const unit = (match[2] ?? 'b').toLowerCase();
  return amount * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}

const integer = (name: string, fallback: number, min: number, max: number, hint: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const n = Number(value);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name}: must be an integer from ${min} to ${max} (${hint})` });
        return z.NEVER;
      }
      return n;
    });

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const str = (name: string) => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };

  const nodeEnv = str('NODE_ENV') ?? 'development';
  if (!['development', 'production', 'test'].includes(nodeEnv)) {
    problems.push(`NODE_ENV: must be development, production or test (got "${nodeEnv}")`);
  }

  const numbers = {
    port: integer('PORT', 3000, 0, 65535, 'the HTTP port; 0 picks a free one'),
    actorCacheSize: integer('HUB_ACTOR_CACHE_SIZE', 1000, 1, 10_000_000, 'how many actors stay in memory'),
    shutdownTimeoutMs: integer('HUB_SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000, 'milliseconds a graceful stop may take'),
    effectMaxAttempts: integer('HUB_EFFECT_MAX_ATTEMPTS', 5, 1, 100, 'tries of a failing external call before its error is delivered'),
    effectLeaseMs: integer('HUB_EFFECT_LEASE_MS', 30_000, 500, 3_600_000, 'how long a process may hold an external call before another takes it over'),
    workerPollMs: integer('HUB_WORKER_POLL_MS', 1000, 50, 600_000, 'how often due timers and pending calls are looked up'),
  };
  const parsedNumbers: Record<keyof typeof numbers, number> = { port: 0, actorCacheSize: 0, shutdownTimeoutMs: 0, effectMaxAttempts: 0, effectLeaseMs: 0, workerPollMs: 0 };
  const envNames: Record<keyof typeof numbers, string> = {
    port: 'PORT',
    actorCacheSize: 'HUB_ACTOR_CACHE_SIZE',
    shutdownTimeoutMs: 'HUB_SHUTDOWN_TIMEOUT_MS',
    effectMaxAttempts: 'HUB_EFFECT_MAX_ATTEMPTS',
    effectLeaseMs: 'HUB_EFFECT_LEASE_MS',
    workerPollMs: 'HUB_WORKER_POLL_MS',
  };
  for (const key of Object.keys(numbers) as Array<keyof typeof numbers>) {
    const result = numbers[key].safeParse(str(envNames[key]));
    if (result.success) parsedNumbers[key] = result.data;
    else problems.push(...result.error.issues.map((issue) => issue.message));
  }

  const host = str('HOST') ?? '127.0.0.1';

  const mongodbUri = str('MONGODB_URI');
  if (mongodbUri && !/^mongodb(\+srv)?:\/\//.test(mongodbUri)) {
    problems.push('MONGODB_URI: must start with mongodb:// or mongodb+srv:// (unset it to use the embedded database)');
  }
  const mongodbDb = str('MONGODB_DB') ?? 'hub';
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(mongodbDb)) problems.push('MONGODB_DB: letters, digits, _ and - only, at most 63 characters');

  const dataDir = path.resolve(str('DATA_DIR') ?? './data');

  const logLevel = (str('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) problems.push(`LOG_LEVEL: one of ${LOG_LEVELS.join(', ')}`);

  const adminApiKey = str('ADMIN_API_KEY');
  if (adminApiKey !== undefined && adminApiKey.length < 24) problems.push('ADMIN_API_KEY: must be at least 24 characters (generate one with `openssl rand -base64 32`)');

  const masterKeyText = str('HUB_MASTER_KEY');
  let masterKey: Buffer | undefined;
  if (masterKeyText !== undefined) {
    const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(masterKeyText) ? Buffer.from(masterKeyText, 'base64') : Buffer.alloc(0);
    if (decoded.length !== 32) problems.push('HUB_MASTER_KEY: must be 32 bytes, base64-encoded (generate one with `openssl rand -base64 32`)');
    else masterKey = decoded;
  }

  if (nodeEnv === 'production') {
    if (!adminApiKey) problems.push('ADMIN_API_KEY: required when NODE_ENV=production');
    if (!masterKeyText) problems.push('HUB_MASTER_KEY: required when NODE_ENV=production');
  }

  const bodyLimitText = str('HUB_BODY_LIMIT') ?? '1mb';
  const bodyLimitBytes = parseSize(bodyLimitText);
  if (bodyLimitBytes === null || bodyLimitBytes < 1) problems.push('HUB_BODY_LIMIT: a size such as 100kb, 1mb or a number of bytes');

  const defaultBaseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${parsedNumbers.port}`;
  const publicBaseUrl = str('PUBLIC_BASE_URL') ?? defaultBaseUrl;
  if (!URL.canParse(publicBaseUrl) || !/^https?:$/.test(new URL(publicBaseUrl).protocol)) {
    problems.push('PUBLIC_BASE_URL: an absolute http(s) URL that partners can call back, e.g. https://hub.example.com');
  }

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    env: nodeEnv as Config['env'],
    port: parsedNumbers.port,
    host,
    mongodbUri,
    mongodbDb,
    dataDir,
    logLevel: logLevel as Config['logLevel'],
    adminApiKey,
    masterKey,
    publicBaseUrl: publicBaseUrl.replace(/\/+$/, ''),
    actorCacheSize: parsedNumbers.actorCacheSize,
    bodyLimitBytes: bodyLimitBytes ?? 0,
    shutdownTimeoutMs: parsedNumbers.shutdownTimeoutMs,
    effectMaxAttempts: parsedNumbers.effectMaxAttempts,
    effectLeaseMs: parsedNumbers.effectLeaseMs,
    workerPollMs: parsedNumbers.workerPollMs,
  };
}

/** A loggable summary: which secrets are set, never their values. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    env: config.env,
    host: config.host,
    port: config.port,
    database: config.mongodbUri ? withoutCredentials(config.mongodbUri) : 'embedded',
    mongodbDb: config.mongodbDb,
    dataDir: config.dataDir,
    logLevel: config.logLevel,
    adminApiKey: config.adminApiKey ? '[set]' : '[unset]',
    masterKey: config.masterKey ? '[set]' : '[unset]',
    publicBaseUrl: config.publicBaseUrl,
    actorCacheSize: config.actorCacheSize,
    bodyLimitBytes: config.bodyLimitBytes,
    workerPollMs: config.workerPollMs,
  };
}

export function withoutCredentials(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}
