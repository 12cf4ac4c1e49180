import type { Logger } from 'winston';
import type { IntegrationStore } from '../../../../persistence/integrations.ts';

/** How often changes made through another process are looked for: they reach this one within a few seconds. */
const REFRESH_EVERY_MS = 3_000;

/**
 * Who hears that an integration's configuration changed, whether here (an
 * admin's update) or in another process (found by polling the store).
 */
export class ConfigChanges {
  private readonly listeners: Array<(integration: string) => void> = [];
  private refreshTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: { store: IntegrationStore; logger: Logger }) {}

  /** `listener` must not throw; one that does is logged and the others still hear */
  listen(listener: (integration: string) => void): void {
    this.listeners.push(listener);
  }

  changed(name: string): void {
    for (const listener of this.listeners) {
      try {
        listener(name);
      } catch (error) {
        this.deps.logger.warn('a configuration change listener failed', { integration: name, error: String(error) });
      }
    }
  }

  /** Reloads the store and tells of what changed elsewhere; a failure is logged and tried again next time. */
  async refresh(): Promise<void> {
    try {
      const changed = await this.deps.store.refresh();
      for (const name of changed) {
        this.deps.logger.info('integration configuration changed elsewhere; applied', { integration: name });
        this.changed(name);
      }
    } catch (error) {
      this.deps.logger.warn('integration refresh failed', { error: String(error) });
    }
  }

  startPolling(): void {
    this.refreshTimer = setInterval(() => void this.refresh(), REFRESH_EVERY_MS);
    this.refreshTimer.unref();
  }

  stopPolling(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
  }
}
