import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { fiscalPolicySchema, type FiscalPolicy } from './fiscal-policy.ts';
import { DEFAULT_MAX_JSON_DEPTH } from './json-depth.ts';
import { orderPolicySchema, type OrderPolicy } from './order-policy.ts';
import { posPolicySchema, type PosPolicy } from './pos-policy.ts';

/**
 * Configuration comes from the environment, is validated once at start with
 * zod, and every problem is reported as `VARIABLE: what is wrong and what to
 * set`, one per line, all at once. The values of secrets (ADMIN_API_KEY,
 * HUB_MASTER_KEY, anything in MONGODB_URI or PUBLIC_BASE_URL) never appear in
 * a message.
 */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

const ENVS = ['development', 'production', 'test'] as const;
/** What the embedded FerretDB stores into (HUB_EMBEDDED_DB). */
export const EMBEDDED_DB_KINDS = ['sqlite', 'postgresql'] as const;
export type EmbeddedDbKind = (typeof EMBEDDED_DB_KINDS)[number];
const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'debug'] as const;

export interface Config {
  env: (typeof ENVS)[number];
  port: number;
  host: string;
  /** unset → the embedded database under `dataDir` */
  mongodbUri?: string;
  mongodbDb: string;
  /**
   * HUB_EMBEDDED_DB: what the embedded FerretDB stores into when MONGODB_URI is unset (ignored, and said
   * so at start, when it is set); postgresql: an embedded PostgreSQL, two FerretDB front ends for a hub of
   * several processes
   */
  embeddedDb: EmbeddedDbKind;
  /** domain events on NATS JetStream: `natsUrl` unset → the embedded nats-server under `dataDir` */
  events: { enabled: boolean; natsUrl?: string };
  /** absolute */
  dataDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  adminApiKey?: string;
  /** 32 bytes */
  masterKey?: Buffer;
  /** no trailing slash */
  publicBaseUrl: string;
  actorCacheSize: number;
  bodyLimitBytes: number;
  /** how deeply a JSON request body may nest arrays and objects (deeper: refused before it is parsed) */
  jsonMaxDepth: number;
  /** HUB_TLS_CERT and HUB_TLS_KEY: the hub serves HTTPS with these PEM files (read again on SIGHUP); unset: plain HTTP */
  tls?: { certFile: string; keyFile: string };
  /** what a connection may take: its headers, its whole request, and idle between requests (keep-alive) */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
  shutdownTimeoutMs: number;
  effectMaxAttempts: number;
  effectLeaseMs: number;
  workerPollMs: number;
  /** projections (what lists and jobs read) are written once their actor is quiet this long, and repaired when left longer */
  projections: { quietMs: number; repairAfterMs: number };
  /** an older master key still accepted for reading while secrets are re-encrypted (`npm run rotate-key`) */
  previousMasterKey?: Buffer;
  /** auto: integrations with nothing configured talk to in-process sandboxes; off: they stay unconfigured */
  sandboxes: 'auto' | 'off';
  /** auto: with no device configured by an admin, an emulated register and printer (socat PTYs) are started and configured */
  deviceEmulators: 'auto' | 'off';
  /** CIDRs of reverse proxies whose X-Forwarded-For is believed */
  trustedProxies: string[];
  /** request rates (0 per minute: no limit) and the counting of failed authentications; see "### Security" in the README */
  limits: RequestLimitsConfig;
  auditRetentionDays: number;
  /** how long a finished order's customer data is kept before it may be erased on request */
  personalDataRetentionDays: number;
  alerts: AlertChannelsConfig;
  /** customer mail (order notifications) and the management address of the daily report */
  mail: { smtpUrl?: string; from: string; reportTo: string[] };
  /** taxes, fees, payment attempts and timings fixed into each order when accepted */
  orderPolicy: OrderPolicy;
  fiscalPolicy: FiscalPolicy;
  posPolicy: PosPolicy;
  /** who issues the invoices */
  seller: { name: string; details: string };
  /** PUBLIC_BASE_URL was given (otherwise it follows the address the hub listens on) */
  publicBaseUrlExplicit: boolean;
  /** `HUB_INTEGRATION_<NAME>` variables: JSON seeds of integrations, validated by each connector at start */
  integrationSeeds: Array<{ name: string; variable: string; value: Record<string, unknown> }>;
  /** HUB_PROCESSES: hub processes sharing the database and the port (Node's cluster); 1 → no cluster */
  processes: number;
  /** HUB_DB_POOL_SIZE: connections this process opens to the database; 0 → sized for `processes` (persistence/database.ts) */
  databasePoolSize: number;
  /**
   * Set by a cluster primary for its workers only (HUB_CLUSTER_SANDBOXES): the sandboxes it runs for the
   * whole hub, by integration, with the credentials to use them. Unset → a process runs its own.
   */
  clusterSandboxes?: ClusterSandboxes;
  /** HUB_ACTOR_ROUTING: in a hub of several processes, each actor's commands run in the process that owns it */
  actorRouting: boolean;
  /** Set by a cluster primary for its workers only (HUB_CLUSTER_SLOT=`slot/slots`): which slot this worker fills. */
  clusterSlot?: { slot: number; slots: number };
}

/** A sandbox the cluster primary runs, as its workers reach it. */
export const clusterSandboxesSchema = z.record(
  z.string(),
  z.object({ url: z.url({ protocol: /^https?$/ }), credentials: z.record(z.string(), z.string()) }),
);
export type ClusterSandboxes = z.infer<typeof clusterSandboxesSchema>;

export interface RequestLimitsConfig {
  /** per API key, on the authenticated API */
  apiPerMinute: number;
  apiBurst: number;
  /** per client address, on the endpoints without an API key and for API requests that fail to authenticate */
  publicPerMinute: number;
  publicBurst: number;
  /** CIDRs never limited nor counted (the client address, after HUB_TRUSTED_PROXIES) */
  exempt: string[];
  /** failed authentications from one address within `authFailureWindowMs` that raise an alert */
  authFailureThreshold: number;
  authFailureWindowMs: number;
}

export interface AlertChannelsConfig {
  /** smtp://user:pass@host:port or smtps://… ; unset → no e-mail */
  smtpUrl?: string;
  emailFrom: string;
  emailTo: string[];
  /** unset → no outgoing webhook */
  webhookUrl?: string;
  /** signs the webhook body (HMAC-SHA256, header X-Hub-Signature-256) */
  webhookSecret?: string;
}

const GENERATE_KEY = 'generate one with `openssl rand -base64 32`';

/** Shows a non-secret value the user typed, shortened. */
function shown(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

/** Unset and blank are the same: the default applies. Values are trimmed. */
function blankToUndefined(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** `a, b,,c` → `['a', 'b', 'c']`; unset → `[]`. */
function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** An environment variable: a trimmed string, or undefined when unset or blank. */
const variable = () => z.preprocess(blankToUndefined, z.string().optional());

/** A policy given as JSON in one variable, checked by its schema; unset is `{}` (every default). */
function jsonPolicy<TSchema extends z.ZodType<object>>(schema: TSchema, example: string) {
  return variable().transform((value, ctx): z.output<TSchema> => {
    let json: unknown;
    try {
      json = value ? (JSON.parse(value) as unknown) : {};
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be JSON, e.g. ${example}` });
      return z.NEVER;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') });
      return z.NEVER;
    }
    return parsed.data;
  });
}

const wholeNumber = (fallback: number, min: number, max: number, meaning: string) =>
  variable().transform((value, ctx) => {
    if (value === undefined) return fallback;
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a whole number from ${min} to ${max} (got ${shown(value)}); ${meaning}; default ${fallback}`,
      });
      return z.NEVER;
    }
    return n;
  });

const oneOf = <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number], meaning: string) =>
  variable().transform((value, ctx): T[number] => {
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    const found = values.find((candidate) => candidate === lower);
    if (found === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `must be one of ${values.join(', ')} (got ${shown(value)}); ${meaning}; default ${fallback}`,
      });
      return z.NEVER;
    }
    return found;
  });

const SIZE = /^(\d+)\s*(b|kb|mb|gb)?$/i;
const UNIT: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `100kb`, `1mb`, `2048` (bytes) → bytes; null when not a size. */
export function parseSize(value: string): number | null {
  const match = SIZE.exec(value.trim());
  if (!match) return null;
  const bytes = Number(match[1]) * (UNIT[(match[2] ?? 'b').toLowerCase()] ?? 1);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

const masterKey = () =>
  variable().transform((value, ctx) => {
    if (value === undefined) return undefined;
    // 32 bytes are 43 base64 characters and one '=' of padding (optional here).
    const key = /^[A-Za-z0-9+/_-]{43}=?$/.test(value) ? Buffer.from(value, 'base64') : null;
    if (key === null || key.length !== 32) {
      ctx.addIssue({ code: 'custom', message: `must be exactly 32 bytes, base64-encoded (44 characters); ${GENERATE_KEY}` });
      return z.NEVER;
    }
    return key;
  });

/** A path to a PEM file that exists (its content is checked when the server loads it). */
const pemFile = (meaning: string) =>
  variable().transform((value, ctx) => {
    if (value === undefined) return undefined;
    const file = path.resolve(value);
    if (!existsSync(file)) {
      ctx.addIssue({ code: 'custom', message: `no file at ${shown(file)}; ${meaning}` });
      return z.NEVER;
    }
    return file;
  });

const httpUrl = (example: string, allowed: readonly string[] = ['http:', 'https:']) =>
  variable().transform((value, ctx) => {
    if (value === undefined) return undefined;
    const url = URL.canParse(value) ? new URL(value) : null;
    if (url === null || !allowed.includes(url.protocol)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be an absolute ${allowed.map((p) => p.replace(':', '')).join('/')} URL, e.g. ${example}`,
      });
      return z.NEVER;
    }
    return value;
  });

const CIDR = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]+)(?:\/\d{1,3})?$/;
const EMAIL = /^[^\s@,]+@[^\s@,]+$/;

/** The host itself: what the tests, the benchmarks and a local health check call from. */
const LOOPBACK = ['127.0.0.0/8', '::1'];

const rateLimitExempt = () =>
  variable().transform((value, ctx) => {
    if (value === undefined) return [...LOOPBACK];
    if (value.toLowerCase() === 'none') return [];
    const list = commaList(value);
    const bad = list.filter((item) => !CIDR.test(item));
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `must be none or a comma-separated list of IP addresses or CIDRs, e.g. 10.1.2.0/24 (not: ${bad.map(shown).join(', ')}); default ${LOOPBACK.join(',')}`,
      });
      return z.NEVER;
    }
    return list;
  });

const schema = z.object({
  NODE_ENV: oneOf(ENVS, 'development', 'production logs JSON and requires ADMIN_API_KEY and HUB_MASTER_KEY'),
  PORT: wholeNumber(3000, 0, 65535, 'the HTTP port, 0 picks a free one'),
  HOST: variable().transform((value, ctx) => {
    if (value === undefined) return '127.0.0.1';
    if (/[\s/?#@]/.test(value)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a host name or IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0; default 127.0.0.1',
      });
      return z.NEVER;
    }
    return value;
  }),
  MONGODB_URI: variable().refine((value) => value === undefined || /^mongodb(\+srv)?:\/\/[^\s]+$/.test(value), {
    message:
      'must start with mongodb:// or mongodb+srv://, e.g. mongodb://user:password@db.internal:27017; unset it to use the embedded database',
  }),
  HUB_EMBEDDED_DB: oneOf(
    EMBEDDED_DB_KINDS,
    'sqlite',
    'what the embedded database (MONGODB_URI unset) stores into: SQLite files, or an embedded PostgreSQL 15 (Debian package postgresql-15)',
  ),
  NATS_URL: variable().refine((value) => value === undefined || /^(nats|tls):\/\/[^\s]+$/.test(value), {
    message: 'must start with nats:// or tls://, e.g. nats://nats.internal:4222; unset it to use the embedded nats-server',
  }),
  HUB_ACTOR_ROUTING: variable().transform((value, ctx): boolean => {
    if (value === undefined || value === 'on' || value === 'off') return value !== 'off';
    ctx.addIssue({
      code: 'custom',
      message: `must be on or off (got ${shown(value)}); on runs each actor's commands in one process of a hub of several; default on`,
    });
    return z.NEVER;
  }),
  HUB_CLUSTER_SLOT: variable().transform((value, ctx): { slot: number; slots: number } | undefined => {
    if (value === undefined) return undefined;
    const match = /^(\d{1,2})\/(\d{1,2})$/.exec(value);
    const slot = Number(match?.[1]);
    const slots = Number(match?.[2]);
    if (!match || slots < 1 || slot >= slots) {
      ctx.addIssue({
        code: 'custom',
        message: `must be slot/slots with slot < slots, e.g. 0/3 (set by a cluster primary; got ${shown(value)})`,
      });
      return z.NEVER;
    }
    return { slot, slots };
  }),
  HUB_EVENTS: variable().transform((value, ctx): boolean | undefined => {
    if (value === undefined) return undefined;
    if (value === 'on' || value === 'off') return value === 'on';
    ctx.addIssue({
      code: 'custom',
      message: `must be on or off (got ${shown(value)}); on publishes every committed transition on NATS JetStream; default on (off under NODE_ENV=test)`,
    });
    return z.NEVER;
  }),
  MONGODB_DB: variable().transform((value, ctx) => {
    if (value === undefined) return 'hub';
    if (!/^[A-Za-z0-9_-]{1,63}$/.test(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a database name of letters, digits, _ and - (at most 63 characters, got ${shown(value)}); default hub`,
      });
      return z.NEVER;
    }
    return value;
  }),
  DATA_DIR: variable().transform((value) => path.resolve(value ?? './data')),
  LOG_LEVEL: oneOf(LOG_LEVELS, 'info', 'http logs one line per request'),
  ADMIN_API_KEY: variable().refine((value) => value === undefined || value.length >= 24, {
    message: `must be at least 24 characters; ${GENERATE_KEY}`,
  }),
  HUB_MASTER_KEY: masterKey(),
  HUB_PREVIOUS_MASTER_KEY: masterKey(),
  PUBLIC_BASE_URL: variable().transform((value, ctx) => {
    if (value === undefined) return undefined;
    const url = URL.canParse(value) ? new URL(value) : null;
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be an absolute http(s) URL that partners can call back, e.g. https://hub.example.com; default http://HOST:PORT',
      });
      return z.NEVER;
    }
    return value.replace(/\/+$/, '');
  }),
  HUB_TLS_CERT: pemFile('the certificate chain (PEM) the hub serves HTTPS with, e.g. /etc/hub/tls/fullchain.pem'),
  HUB_TLS_KEY: pemFile('the private key (PEM) of HUB_TLS_CERT, e.g. /etc/hub/tls/privkey.pem'),
  HUB_ACTOR_CACHE_SIZE: wholeNumber(10_000, 1, 10_000_000, 'how many actors stay in memory (LRU)'),
  HUB_BODY_LIMIT: variable().transform((value, ctx) => {
    if (value === undefined) return 1024 * 1024;
    const bytes = parseSize(value);
    if (bytes === null || bytes < 1) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a size such as 100kb, 1mb or a number of bytes (got ${shown(value)}); default 1mb`,
      });
      return z.NEVER;
    }
    return bytes;
  }),
  // Below 8 real bodies (an order with its customer, items and address) would be refused; no real body nests past
  // 1024, and what stores a body (JSON.stringify) recurses: the bound stays far below the stack's depth.
  HUB_JSON_MAX_DEPTH: wholeNumber(
    DEFAULT_MAX_JSON_DEPTH,
    8,
    1024,
    'how many levels of arrays and objects a JSON request body may nest before it is refused',
  ),
  HUB_HTTP_HEADERS_TIMEOUT_MS: wholeNumber(10_000, 100, 600_000, 'milliseconds a client has to send the headers of a request'),
  HUB_HTTP_REQUEST_TIMEOUT_MS: wholeNumber(30_000, 100, 3_600_000, 'milliseconds a client has to send a whole request, body included'),
  HUB_HTTP_KEEP_ALIVE_TIMEOUT_MS: wholeNumber(5_000, 100, 600_000, 'milliseconds an idle keep-alive connection stays open'),
  HUB_SHUTDOWN_TIMEOUT_MS: wholeNumber(10_000, 100, 600_000, 'milliseconds a graceful stop may take'),
  HUB_EFFECT_MAX_ATTEMPTS: wholeNumber(5, 1, 100, 'tries of a failing external call before its error reaches the machine'),
  HUB_EFFECT_LEASE_MS: wholeNumber(30_000, 500, 3_600_000, 'how long a process may hold an external call before another takes it over'),
  HUB_WORKER_POLL_MS: wholeNumber(1000, 50, 600_000, 'milliseconds between looks for due timers and pending calls'),
  HUB_PROJECTION_QUIET_MS: wholeNumber(
    2000,
    0,
    600_000,
    'milliseconds an actor is quiet before its projection (what lists read) is written',
  ),
  HUB_PROJECTION_REPAIR_AFTER_MS: wholeNumber(
    15_000,
    1000,
    3_600_000,
    'milliseconds after which a projection a process has not written is taken as left by a dead process and written from the journal',
  ),
  HUB_PROCESSES: wholeNumber(1, 1, 64, 'hub processes on one database and one port (npm start -- --processes N)'),
  HUB_DB_POOL_SIZE: wholeNumber(
    0,
    0,
    1000,
    'connections each hub process opens to the database; 0 sizes them so that HUB_PROCESSES processes together stay within what one FerretDB database holds',
  ),
  HUB_CLUSTER_SANDBOXES: variable().transform((value, ctx): ClusterSandboxes | undefined => {
    if (value === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      json = undefined;
    }
    const parsed = clusterSandboxesSchema.safeParse(json);
    if (parsed.success) return parsed.data;
    // it holds credentials: never quoted
    ctx.addIssue({ code: 'custom', message: 'is set by the cluster primary for its workers only; unset it' });
    return z.NEVER;
  }),
  HUB_SANDBOXES: variable().transform((value, ctx): 'auto' | 'off' | undefined => {
    if (value === undefined) return undefined;
    if (value === 'auto' || value === 'off') return value;
    ctx.addIssue({
      code: 'custom',
      message: `must be auto or off (got ${shown(value)}); auto points every unconfigured integration at its built-in sandbox; default auto, off in production`,
    });
    return z.NEVER;
  }),
  HUB_DEVICE_EMULATORS: variable().transform((value, ctx): 'auto' | 'off' | undefined => {
    if (value === undefined) return undefined;
    if (value === 'auto' || value === 'off') return value;
    ctx.addIssue({
      code: 'custom',
      message: `must be auto or off (got ${shown(value)}); auto starts an emulated fiscal register and receipt printer when no device is configured; default auto, off in production`,
    });
    return z.NEVER;
  }),
  HUB_TRUSTED_PROXIES: variable().transform((value, ctx) => {
    const list = commaList(value);
    const bad = list.filter((item) => !CIDR.test(item));
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a comma-separated list of IP addresses or CIDRs, e.g. 10.0.0.0/8,127.0.0.1 (not: ${bad.map(shown).join(', ')})`,
      });
      return z.NEVER;
    }
    return list;
  }),
  HUB_RATE_LIMIT_API_PER_MINUTE: wholeNumber(6_000, 0, 10_000_000, 'requests a minute one API key may make, 0 for no limit'),
  HUB_RATE_LIMIT_API_BURST: wholeNumber(600, 1, 10_000_000, 'requests one API key may make at once above its rate'),
  HUB_RATE_LIMIT_PUBLIC_PER_MINUTE: wholeNumber(
    1_200,
    0,
    10_000_000,
    'requests a minute one client address may make to the endpoints without an API key, 0 for no limit',
  ),
  HUB_RATE_LIMIT_PUBLIC_BURST: wholeNumber(200, 1, 10_000_000, 'requests one client address may make at once above its rate'),
  HUB_RATE_LIMIT_EXEMPT: rateLimitExempt(),
  HUB_AUTH_FAILURE_ALERT_THRESHOLD: wholeNumber(
    20,
    1,
    1_000_000,
    'requests with a missing or unknown API key from one address that raise an alert',
  ),
  HUB_AUTH_FAILURE_WINDOW_MS: wholeNumber(300_000, 1_000, 86_400_000, 'milliseconds over which failed authentications are counted'),
  HUB_AUDIT_RETENTION_DAYS: wholeNumber(30, 1, 3650, 'days the audit log keeps external interactions and admin changes'),
  HUB_PERSONAL_DATA_RETENTION_DAYS: wholeNumber(
    1095,
    0,
    36500,
    "days a finished order's customer data is kept (its documents must be) before POST /admin/customers/forget erases it",
  ),
  HUB_ALERT_SMTP_URL: httpUrl('smtp://alerts:password@mail.example.com:587', ['smtp:', 'smtps:']),
  HUB_ALERT_EMAIL_FROM: variable().refine((value) => value === undefined || EMAIL.test(value), {
    message: 'must be one e-mail address, e.g. hub@example.com',
  }),
  HUB_ALERT_EMAIL_TO: variable().transform((value, ctx) => {
    const list = commaList(value);
    if (list.some((item) => !EMAIL.test(item))) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a comma-separated list of e-mail addresses, e.g. ops@example.com,oncall@example.com',
      });
      return z.NEVER;
    }
    return list;
  }),
  HUB_ALERT_WEBHOOK_URL: httpUrl('https://hooks.example.com/hub-alerts'),
  HUB_MAIL_SMTP_URL: httpUrl('smtp://shop:password@mail.example.com:587', ['smtp:', 'smtps:']),
  HUB_MAIL_FROM: variable().refine((value) => value === undefined || EMAIL.test(value), {
    message: 'must be one e-mail address, e.g. shop@example.com',
  }),
  HUB_REPORT_EMAIL_TO: variable().transform((value, ctx) => {
    const list = commaList(value);
    if (list.some((item) => !EMAIL.test(item))) {
      ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of e-mail addresses, e.g. management@example.com' });
      return z.NEVER;
    }
    return list;
  }),
  HUB_ORDER_POLICY: jsonPolicy(orderPolicySchema, '{"vatRatePercent":20,"maxPaymentAttempts":3}'),
  HUB_FISCAL_POLICY: jsonPolicy(fiscalPolicySchema, '{"autoZReport":true,"alertAfterMs":300000}'),
  HUB_POS_POLICY: jsonPolicy(posPolicySchema, '{"stores":{"main":{"fiscalRegister":"main","receiptPrinter":"printer"}}}'),
  HUB_SELLER_NAME: variable(),
  HUB_SELLER_DETAILS: variable(),
  HUB_ALERT_WEBHOOK_SECRET: variable(),
});

type Variable = keyof z.input<typeof schema>;

/** Reads and validates the configuration; throws a ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Partial<Record<Variable, string>> = {};
  for (const name of Object.keys(schema.shape) as Variable[]) raw[name] = env[name];

  const problems: string[] = [];
  const result = schema.safeParse(raw);
  if (!result.success) {
    // Messages are ours alone (zod's defaults could quote input); never the value of a secret.
    for (const issue of result.error.issues) problems.push(`${issue.path.map(String).join('.') || 'environment'}: ${issue.message}`);
  }

  // Checked on the raw values so that these are reported together with everything else.
  if (blankToUndefined(env.NODE_ENV) === 'production') {
    if (blankToUndefined(env.ADMIN_API_KEY) === undefined)
      problems.push(`ADMIN_API_KEY: required when NODE_ENV=production (at least 24 characters); ${GENERATE_KEY}`);
    if (blankToUndefined(env.HUB_MASTER_KEY) === undefined)
      problems.push(`HUB_MASTER_KEY: required when NODE_ENV=production (32 bytes, base64); ${GENERATE_KEY}`);
  }

  if (result.success && result.data.HUB_HTTP_HEADERS_TIMEOUT_MS > result.data.HUB_HTTP_REQUEST_TIMEOUT_MS) {
    problems.push(
      `HUB_HTTP_HEADERS_TIMEOUT_MS and HUB_HTTP_REQUEST_TIMEOUT_MS: the headers are part of the request, so their timeout (${result.data.HUB_HTTP_HEADERS_TIMEOUT_MS}) may not exceed the request's (${result.data.HUB_HTTP_REQUEST_TIMEOUT_MS})`,
    );
  }

  if (result.success && result.data.HUB_PROJECTION_REPAIR_AFTER_MS <= result.data.HUB_PROJECTION_QUIET_MS) {
    problems.push(
      `HUB_PROJECTION_REPAIR_AFTER_MS and HUB_PROJECTION_QUIET_MS: a projection is written once its actor is quiet, so the repair may wait no less (${result.data.HUB_PROJECTION_REPAIR_AFTER_MS} ≤ ${result.data.HUB_PROJECTION_QUIET_MS})`,
    );
  }

  if ((blankToUndefined(env.HUB_TLS_CERT) === undefined) !== (blankToUndefined(env.HUB_TLS_KEY) === undefined)) {
    problems.push('HUB_TLS_CERT and HUB_TLS_KEY: set both to serve HTTPS, or neither');
  }

  const alertSmtp = blankToUndefined(env.HUB_ALERT_SMTP_URL);
  const alertTo = blankToUndefined(env.HUB_ALERT_EMAIL_TO);
  if ((alertSmtp === undefined) !== (alertTo === undefined)) {
    problems.push('HUB_ALERT_SMTP_URL and HUB_ALERT_EMAIL_TO: set both to send alerts by e-mail, or neither');
  }
  const integrationSeeds = readIntegrationSeeds(env, problems);

  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  const v = result.data;
  const host = v.HOST.includes(':') && !v.HOST.startsWith('[') ? `[${v.HOST}]` : v.HOST;
  const tls = v.HUB_TLS_CERT && v.HUB_TLS_KEY ? { certFile: v.HUB_TLS_CERT, keyFile: v.HUB_TLS_KEY } : undefined;

  return {
    env: v.NODE_ENV,
    port: v.PORT,
    host: v.HOST,
    mongodbUri: v.MONGODB_URI,
    mongodbDb: v.MONGODB_DB,
    embeddedDb: v.HUB_EMBEDDED_DB,
    // off by default under test: a nats-server per test hub would cost every test; the event tests turn it on
    events: { enabled: v.HUB_EVENTS ?? v.NODE_ENV !== 'test', ...(v.NATS_URL ? { natsUrl: v.NATS_URL } : {}) },
    dataDir: v.DATA_DIR,
    logLevel: v.LOG_LEVEL,
    adminApiKey: v.ADMIN_API_KEY,
    masterKey: v.HUB_MASTER_KEY,
    publicBaseUrl: v.PUBLIC_BASE_URL ?? `${tls ? 'https' : 'http'}://${host}:${v.PORT}`,
    actorCacheSize: v.HUB_ACTOR_CACHE_SIZE,
    bodyLimitBytes: v.HUB_BODY_LIMIT,
    jsonMaxDepth: v.HUB_JSON_MAX_DEPTH,
    ...(tls ? { tls } : {}),
    http: {
      headersTimeoutMs: v.HUB_HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: v.HUB_HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: v.HUB_HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    shutdownTimeoutMs: v.HUB_SHUTDOWN_TIMEOUT_MS,
    effectMaxAttempts: v.HUB_EFFECT_MAX_ATTEMPTS,
    effectLeaseMs: v.HUB_EFFECT_LEASE_MS,
    workerPollMs: v.HUB_WORKER_POLL_MS,
    projections: { quietMs: v.HUB_PROJECTION_QUIET_MS, repairAfterMs: v.HUB_PROJECTION_REPAIR_AFTER_MS },
    previousMasterKey: v.HUB_PREVIOUS_MASTER_KEY,
    sandboxes: v.HUB_SANDBOXES ?? (v.NODE_ENV === 'production' ? 'off' : 'auto'),
    deviceEmulators: v.HUB_DEVICE_EMULATORS ?? (v.NODE_ENV === 'production' ? 'off' : 'auto'),
    trustedProxies: v.HUB_TRUSTED_PROXIES,
    limits: {
      apiPerMinute: v.HUB_RATE_LIMIT_API_PER_MINUTE,
      apiBurst: v.HUB_RATE_LIMIT_API_BURST,
      publicPerMinute: v.HUB_RATE_LIMIT_PUBLIC_PER_MINUTE,
      publicBurst: v.HUB_RATE_LIMIT_PUBLIC_BURST,
      exempt: v.HUB_RATE_LIMIT_EXEMPT,
      authFailureThreshold: v.HUB_AUTH_FAILURE_ALERT_THRESHOLD,
      authFailureWindowMs: v.HUB_AUTH_FAILURE_WINDOW_MS,
    },
    auditRetentionDays: v.HUB_AUDIT_RETENTION_DAYS,
    personalDataRetentionDays: v.HUB_PERSONAL_DATA_RETENTION_DAYS,
    alerts: {
      smtpUrl: v.HUB_ALERT_SMTP_URL,
      emailFrom: v.HUB_ALERT_EMAIL_FROM ?? 'integration-hub@localhost',
      emailTo: v.HUB_ALERT_EMAIL_TO,
      webhookUrl: v.HUB_ALERT_WEBHOOK_URL,
      webhookSecret: v.HUB_ALERT_WEBHOOK_SECRET,
    },
    mail: { smtpUrl: v.HUB_MAIL_SMTP_URL, from: v.HUB_MAIL_FROM ?? 'shop@localhost', reportTo: v.HUB_REPORT_EMAIL_TO },
    orderPolicy: v.HUB_ORDER_POLICY,
    fiscalPolicy: v.HUB_FISCAL_POLICY,
    posPolicy: v.HUB_POS_POLICY,
    seller: { name: v.HUB_SELLER_NAME ?? 'ТОВ «Демо-магазин»', details: v.HUB_SELLER_DETAILS ?? 'ЄДРПОУ 00000000 · м. Київ' },
    publicBaseUrlExplicit: v.PUBLIC_BASE_URL !== undefined,
    integrationSeeds,
    processes: v.HUB_PROCESSES,
    databasePoolSize: v.HUB_DB_POOL_SIZE,
    ...(v.HUB_CLUSTER_SANDBOXES ? { clusterSandboxes: v.HUB_CLUSTER_SANDBOXES } : {}),
    actorRouting: v.HUB_ACTOR_ROUTING,
    ...(v.HUB_CLUSTER_SLOT ? { clusterSlot: v.HUB_CLUSTER_SLOT } : {}),
  };
}

const SEED_PREFIX = 'HUB_INTEGRATION_';

/**
 * `HUB_INTEGRATION_NOVAPOSHTA='{"baseUrl":"…","credentials":{"apiKey":"…"}}'`:
 * the JSON uses the same field names as the admin API. Only its shape is
 * checked here; each connector validates its own fields at start.
 */
function readIntegrationSeeds(env: NodeJS.ProcessEnv, problems: string[]): Config['integrationSeeds'] {
  const seeds: Config['integrationSeeds'] = [];
  for (const variableName of Object.keys(env).sort()) {
    if (!variableName.startsWith(SEED_PREFIX)) continue;
    const raw = blankToUndefined(env[variableName]);
    if (typeof raw !== 'string') continue;
    const name = variableName.slice(SEED_PREFIX.length).toLowerCase().replace(/_/g, '-');
    if (!/^[a-z][a-z0-9-]{1,39}$/.test(name)) {
      problems.push(`${variableName}: the integration name after ${SEED_PREFIX} must be letters, digits and _ (2 to 40 characters)`);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      // The value may hold credentials: never quote it.
      problems.push(`${variableName}: must be a JSON object such as {"credentials":{"apiKey":"…"}} (it is not valid JSON)`);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${variableName}: must be a JSON object such as {"credentials":{"apiKey":"…"}}`);
      continue;
    }
    const unknownFields = Object.keys(value).filter((key) => !['enabled', 'baseUrl', 'credentials', 'settings'].includes(key));
    if (unknownFields.length > 0) {
      problems.push(`${variableName}: unknown field(s) ${unknownFields.join(', ')}; allowed: enabled, baseUrl, credentials, settings`);
      continue;
    }
    seeds.push({ name, variable: variableName, value: value as Record<string, unknown> });
  }
  return seeds;
}

/** A loggable summary: which secrets are set, never their values. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    env: config.env,
    host: config.host,
    port: config.port,
    mongodbUri: config.mongodbUri ? withoutCredentials(config.mongodbUri) : '[unset]',
    database: config.mongodbUri ? 'external' : 'embedded',
    embeddedDb: config.mongodbUri ? '[ignored: MONGODB_URI is set]' : config.embeddedDb,
    events: config.events.enabled ? (config.events.natsUrl ? withoutCredentials(config.events.natsUrl) : 'embedded nats-server') : '[off]',
    mongodbDb: config.mongodbDb,
    dataDir: config.dataDir,
    logLevel: config.logLevel,
    adminApiKey: config.adminApiKey ? '[set]' : '[unset]',
    masterKey: config.masterKey ? '[set]' : '[unset]',
    publicBaseUrl: withoutCredentials(config.publicBaseUrl),
    actorCacheSize: config.actorCacheSize,
    bodyLimitBytes: config.bodyLimitBytes,
    jsonMaxDepth: config.jsonMaxDepth,
    tls: config.tls ? { cert: config.tls.certFile, key: config.tls.keyFile } : '[off: plain HTTP]',
    http: config.http,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    effectMaxAttempts: config.effectMaxAttempts,
    effectLeaseMs: config.effectLeaseMs,
    workerPollMs: config.workerPollMs,
    projections: config.projections,
    previousMasterKey: config.previousMasterKey ? '[set]' : '[unset]',
    sandboxes: config.sandboxes,
    deviceEmulators: config.deviceEmulators,
    trustedProxies: config.trustedProxies,
    limits: config.limits,
    auditRetentionDays: config.auditRetentionDays,
    personalDataRetentionDays: config.personalDataRetentionDays,
    alerts: {
      email: config.alerts.smtpUrl ? `${withoutCredentials(config.alerts.smtpUrl)} → ${config.alerts.emailTo.join(', ')}` : '[off]',
      webhook: config.alerts.webhookUrl ? withoutCredentials(config.alerts.webhookUrl).replace(/\?.*$/, '?…') : '[off]',
    },
    mail: {
      smtp: config.mail.smtpUrl ? withoutCredentials(config.mail.smtpUrl) : '[off: mail is kept, not sent]',
      from: config.mail.from,
      reportTo: config.mail.reportTo,
    },
    orderPolicy: config.orderPolicy,
    fiscalPolicy: config.fiscalPolicy,
    posPolicy: config.posPolicy,
    integrationSeeds: config.integrationSeeds.map((seed) => seed.variable),
    processes: config.processes,
    databasePoolSize: config.databasePoolSize,
    ...(config.clusterSandboxes ? { clusterSandboxes: Object.keys(config.clusterSandboxes) } : {}),
    actorRouting: config.actorRouting,
    ...(config.clusterSlot ? { clusterSlot: config.clusterSlot } : {}),
  };
}

/**
 * `scheme://user:pass@host…` → `scheme://***@host…`. The user info runs to the
 * last `@` before the path, so an unescaped `@` in a password does not leak its tail.
 */
export function withoutCredentials(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}
