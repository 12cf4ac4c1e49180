import { createHash } from 'node:crypto';
import type { Logger } from 'winston';
import type { Connectors } from '../../platform/connectors/kit/connectors.ts';
import { goodfinConnector } from '../../platform/connectors/goodfin/connector.ts';
import {
  INBOUND_TOKEN_HEADER,
  type EndpointDeclaration,
  type ErrorMapping,
  type StatusMapping,
} from '../../platform/connectors/goodfin/protocol.ts';
import { errorModel, inboundToken, statusModel } from './model.ts';

export interface DeclarationState {
  /** what was declared last, and when */
  declaredAt: string | null;
  endpoint: string | null;
  statuses: number;
  /** the last attempt's failure, while it is not declared */
  lastError: string | null;
  attempts: number;
}

interface Declarations {
  endpoint: EndpointDeclaration;
  statuses: StatusMapping;
  errors: ErrorMapping;
  fingerprint: string;
}

/**
 * Tells Goodfin where to push messages (with the header secret), our status
 * model and our error codes: at start-up, and again whenever what they are
 * made from changes — credentials, base URL, the statuses in the settings,
 * the public address. A failure is retried with growing pauses; the check
 * itself costs nothing, so it runs every few seconds and on every change.
 */
export class GoodfinDeclarer {
  private declaredFingerprint: string | null = null;
  /** what failed last: only that waits out the pause; a new configuration is tried at once */
  private failedFingerprint: string | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private retryAt = 0;
  private readonly state: DeclarationState = { declaredAt: null, endpoint: null, statuses: 0, lastError: null, attempts: 0 };

  constructor(
    private readonly options: {
      connectors: Connectors;
      publicBaseUrl: () => string;
      logger: Logger;
      now?: () => number;
      checkEveryMs?: number;
    },
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** What should be declared now; null when Goodfin is not configured (nothing to declare to). */
  wanted(): Declarations | null {
    let config;
    try {
      config = this.options.connectors.configOf(goodfinConnector);
    } catch {
      return null;
    }
    const endpoint: EndpointDeclaration = {
      url: `${this.options.publicBaseUrl().replace(/\/$/, '')}/goodfin/in`,
      deliveryMode: 'full',
      auth: { type: 'header', name: INBOUND_TOKEN_HEADER, value: inboundToken(config.credentials) },
    };
    const statuses = statusModel(config.settings);
    const errors = errorModel();
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([config.baseUrl, config.credentials.serviceSystemName, endpoint, statuses, errors]))
      .digest('hex');
    return { endpoint, statuses, errors, fingerprint };
  }

  view(): DeclarationState {
    return { ...this.state };
  }

  start(): void {
    void this.check();
    this.timer = setInterval(() => void this.check(), this.options.checkEveryMs ?? 5_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Declares when something changed since the last declaration (or it failed and its pause is over). */
  check(force = false): Promise<void> {
    if (this.running) {
      // a change during a declaration is looked at right after it
      this.again = true;
      return this.running;
    }
    this.running = this.declareIfChanged(force).finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        void this.check();
      }
    });
    return this.running;
  }

  private async declareIfChanged(force: boolean): Promise<void> {
    const wanted = this.wanted();
    if (!wanted) return;
    if (!force && wanted.fingerprint === this.declaredFingerprint) return;
    if (!force && wanted.fingerprint === this.failedFingerprint && this.now() < this.retryAt) return;
    const client = this.options.connectors.client(goodfinConnector);
    try {
      await client.declareEndpoint(wanted.endpoint);
      await client.declareStatuses(wanted.statuses);
      await client.declareErrors(wanted.errors);
      this.declaredFingerprint = wanted.fingerprint;
      this.failedFingerprint = null;
      Object.assign(this.state, {
        declaredAt: new Date(this.now()).toISOString(),
        endpoint: wanted.endpoint.url,
        statuses: wanted.statuses.statuses.length,
        lastError: null,
        attempts: 0,
      });
      this.options.logger.info('goodfin declarations made', {
        endpoint: wanted.endpoint.url,
        statuses: wanted.statuses.statuses.length,
        errors: wanted.errors.errors.length,
      });
    } catch (error) {
      if (wanted.fingerprint !== this.failedFingerprint) this.state.attempts = 0;
      this.failedFingerprint = wanted.fingerprint;
      this.state.attempts += 1;
      this.state.lastError = error instanceof Error ? error.message : String(error);
      this.retryAt = this.now() + Math.min(300_000, 2_000 * 2 ** Math.min(this.state.attempts - 1, 10));
      this.options.logger.warn('goodfin declarations failed; retrying', { attempts: this.state.attempts, error: this.state.lastError });
    }
  }
}
