import { AppError } from '../../../common/errors.ts';
import type { DeviceRecord, DeviceStore } from '../../../persistence/devices.ts';

/**
 * One open client per configured device of a kind (opened on first use,
 * reopened when the device's configuration changes), and one piece of work
 * at a time per device, in the order asked.
 */
interface OpenClient<TClient> {
  revision: number;
  client: TClient;
  /** the tail of this device's queue */
  tail: Promise<unknown>;
}

export class DeviceClients<TClient extends { close(): Promise<void> }> {
  private readonly open = new Map<string, OpenClient<TClient>>();

  constructor(
    private readonly options: {
      store: DeviceStore;
      kind: DeviceRecord['kind'];
      /** how the kind is named in "no … named" */
      label: string;
      create: (record: DeviceRecord) => TClient;
    },
  ) {}

  /** Runs `work` with the device alone, after earlier work on it; an abort before its turn gives it up. */
  async exclusive<T>(name: string, signal: AbortSignal | null, work: (client: TClient) => Promise<T>): Promise<T> {
    const entry = await this.entryOf(name);
    const run = entry.tail
      .catch(() => undefined)
      .then(() => {
        signal?.throwIfAborted();
        return work(entry.client);
      });
    entry.tail = run;
    return run;
  }

  /** Closes a device's port (its configuration changed or it was removed); the next use opens it anew. */
  async forget(name: string): Promise<void> {
    const entry = this.open.get(name);
    if (!entry) return;
    this.open.delete(name);
    await entry.tail.catch(() => undefined);
    await entry.client.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((name) => this.forget(name)));
  }

  private async entryOf(name: string): Promise<OpenClient<TClient>> {
    const record = this.options.store.get(name);
    if (!record || record.kind !== this.options.kind) throw new AppError(404, 'not_found', `no ${this.options.label} named "${name}"`);
    const current = this.open.get(name);
    if (current && current.revision === record.revision) return current;
    // the old port is closed before the same path is opened again
    if (current) await this.forget(name);
    const entry: OpenClient<TClient> = { revision: record.revision, client: this.options.create(record), tail: Promise.resolve() };
    this.open.set(name, entry);
    return entry;
  }
}
