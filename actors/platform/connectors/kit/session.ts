import { ConnectorError } from './errors.ts';

/**
 * A bearer token obtained by logging in (Rozetka, Goodfin): kept while it
 * is good, renewed a margin before it expires, never fetched twice at once
 * (concurrent callers share one login), and renewed once — then the call
 * repeated once — when the partner says the token is no longer good.
 * A client holds one session; a change of credentials builds a new client,
 * so a new session with them.
 */
export interface SessionToken {
  token: string;
  /** epoch ms; null when the partner does not say */
  expiresAt: number | null;
}

export class TokenSession {
  private current: SessionToken | null = null;
  private pending: Promise<SessionToken> | null = null;
  private logins = 0;

  constructor(
    private readonly login: () => Promise<SessionToken>,
    private readonly options: { renewBeforeMs: number; now?: () => number },
  ) {}

  /** logins performed so far (for tests and diagnostics) */
  get loginCount(): number {
    return this.logins;
  }

  /** the token in use, if any (to scrub it from logs) */
  get token(): string | null {
    return this.current?.token ?? null;
  }

  async obtain(): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    if (this.current && (this.current.expiresAt === null || this.current.expiresAt - this.options.renewBeforeMs > now))
      return this.current.token;
    this.pending ??= this.login()
      .then((fresh) => {
        this.logins += 1;
        this.current = fresh;
        return fresh;
      })
      .finally(() => {
        this.pending = null;
      });
    return (await this.pending).token;
  }

  /** forgets `token` unless a newer one already replaced it */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = null;
  }

  /**
   * Runs `call` with a token; when it fails with an error `isExpired` says
   * is about the token, logs in again and runs it once more.
   */
  async run<T>(call: (token: string) => Promise<T>, isExpired: (error: ConnectorError) => boolean): Promise<T> {
    const token = await this.obtain();
    try {
      return await call(token);
    } catch (error) {
      if (!(error instanceof ConnectorError) || !isExpired(error)) throw error;
      this.invalidate(token);
      return call(await this.obtain());
    }
  }
}
