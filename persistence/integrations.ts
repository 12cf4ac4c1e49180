import type { Collection } from 'mongodb';
import { defineCollection } from './define-collection.ts';
import { MasterKeyError, type Keyring, type SealedSecret } from './secret-box.ts';

/** One external integration's configuration; credentials sealed with the master key. */
export interface IntegrationDoc {
  _id: string; // integration name
  enabled: boolean;
  baseUrl: string | null;
  credentials: SealedSecret | null; // JSON object of strings, sealed
  credentialFields: string[]; // which fields are set (names only)
  settings: string; // JSON: the connector's settings (keys may contain '.')
  revision: number;
  source: 'admin' | 'environment';
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string;
}

export const integrationsCollection = defineCollection<IntegrationDoc>({
  name: 'integrations',
  description: "each integration's configuration, credentials sealed with the master key",
});

/** An integration's stored configuration with its credentials opened. Never leaves the process. */
export interface IntegrationRecord {
  name: string;
  enabled: boolean;
  baseUrl: string | null;
  credentials: Record<string, string>;
  settings: Record<string, unknown>;
  revision: number;
  source: 'admin' | 'environment';
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string;
}

export type IntegrationWrite = Pick<IntegrationRecord, 'enabled' | 'baseUrl' | 'credentials' | 'settings'>;

const aadOf = (name: string) => `integration:${name}`;

/**
 * The `integrations` collection: one document per integration, credentials
 * sealed under the master key (AES-256-GCM, bound to the integration's name).
 * Records are opened once at start — a key that cannot open them stops the
 * start — and kept in memory; writes go through here and bump `revision`.
 */
export class IntegrationStore {
  private readonly records = new Map<string, IntegrationRecord>();

  constructor(
    private readonly collection: Collection<IntegrationDoc>,
    private readonly keyring: Keyring,
  ) {}

  /**
   * Reads and opens every record. Records sealed with a previous key are
   * sealed again with the current one. Throws MasterKeyError naming the
   * integration when a record cannot be opened.
   */
  async load(): Promise<IntegrationRecord[]> {
    const docs = await this.collection.find({}).toArray();
    const fresh = new Map<string, IntegrationRecord>();
    for (const doc of docs) {
      const record = this.open(doc);
      fresh.set(doc._id, record);
      if (doc.credentials && doc.credentials.keyId !== this.keyring.currentKeyId) {
        await this.collection.updateOne(
          { _id: doc._id },
          { $set: { credentials: this.keyring.seal(JSON.stringify(record.credentials), aadOf(doc._id)) } },
        );
      }
    }
    this.records.clear();
    for (const [name, record] of fresh) this.records.set(name, record);
    return [...fresh.values()];
  }

  /** Re-reads records changed by other processes; returns the names whose revision changed. */
  async refresh(): Promise<string[]> {
    const docs = await this.collection.find({}, { projection: { _id: 1, revision: 1 } }).toArray();
    const changed: string[] = [];
    for (const doc of docs) {
      if (this.records.get(doc._id)?.revision === doc.revision) continue;
      const full = await this.collection.findOne({ _id: doc._id });
      if (!full) continue;
      this.records.set(doc._id, this.open(full));
      changed.push(doc._id);
    }
    return changed;
  }

  get(name: string): IntegrationRecord | null {
    return this.records.get(name) ?? null;
  }

  list(): IntegrationRecord[] {
    return [...this.records.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Writes a whole record (the caller merged and validated it). The write is
   * a replace by `_id` (FerretDB's conditional updates are not atomic); two
   * admins saving at the same moment: the last one wins, and both are audited.
   */
  async put(name: string, next: IntegrationWrite, by: string, source: 'admin' | 'environment'): Promise<IntegrationRecord> {
    const now = new Date();
    const current = this.records.get(name) ?? (await this.reload(name));
    const fields = Object.keys(next.credentials).sort();
    const doc: IntegrationDoc = {
      _id: name,
      enabled: next.enabled,
      baseUrl: next.baseUrl,
      credentials: fields.length > 0 ? this.keyring.seal(JSON.stringify(next.credentials), aadOf(name)) : null,
      credentialFields: fields,
      settings: JSON.stringify(next.settings),
      revision: (current?.revision ?? 0) + 1,
      source,
      createdAt: current?.createdAt ?? now,
      updatedAt: now,
      updatedBy: by,
    };
    await this.collection.replaceOne({ _id: name }, doc, { upsert: true });
    const record = this.open(doc);
    this.records.set(name, record);
    return record;
  }

  private async reload(name: string): Promise<IntegrationRecord | null> {
    const doc = await this.collection.findOne({ _id: name });
    return doc ? this.open(doc) : null;
  }

  private open(doc: IntegrationDoc): IntegrationRecord {
    let credentials: Record<string, string> = {};
    if (doc.credentials) {
      try {
        credentials = JSON.parse(this.keyring.open(doc.credentials, aadOf(doc._id))) as Record<string, string>;
      } catch (error) {
        throw new MasterKeyError(`the credentials of integration "${doc._id}" cannot be decrypted: ${(error as Error).message}`);
      }
    }
    let settings: Record<string, unknown>;
    try {
      settings = JSON.parse(doc.settings || '{}') as Record<string, unknown>;
    } catch {
      settings = {};
    }
    return {
      name: doc._id,
      enabled: doc.enabled,
      baseUrl: doc.baseUrl,
      credentials,
      settings,
      revision: doc.revision,
      source: doc.source,
      createdAt: doc.createdAt,
      updatedAt: doc.updatedAt,
      updatedBy: doc.updatedBy,
    };
  }
}
