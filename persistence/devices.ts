import type { Collection } from 'mongodb';
import { defineCollection } from './define-collection.ts';
import { MasterKeyError, type Keyring, type SealedSecret } from './secret-box.ts';

/**
 * One device on a serial port (a fiscal register or a receipt printer); its
 * passwords sealed with the master key like an integration's credentials.
 */
export interface DeviceDoc {
  _id: string; // the device's name ("main")
  kind: 'fiscal-register' | 'receipt-printer';
  driver: 'shtrih-m' | 'escpos';
  path: string;
  baudRate: number;
  /** receipt printers: the ESC t code page */
  codePage: number | null;
  /** fiscal registers: JSON {operatorPassword, adminPassword}, sealed */
  passwords: SealedSecret | null;
  revision: number;
  source: 'admin' | 'environment';
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string;
}

export const devicesCollection = defineCollection<DeviceDoc>({
  name: 'devices',
  description: 'fiscal registers and receipt printers on serial ports; passwords sealed with the master key',
});

export interface DevicePasswords {
  operatorPassword: number;
  adminPassword: number;
}

/** A device's configuration with its passwords opened. Never leaves the process. */
export interface DeviceRecord {
  name: string;
  kind: DeviceDoc['kind'];
  driver: DeviceDoc['driver'];
  path: string;
  baudRate: number;
  codePage: number | null;
  passwords: DevicePasswords | null;
  revision: number;
  source: DeviceDoc['source'];
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string;
}

export type DeviceWrite = Pick<DeviceRecord, 'kind' | 'driver' | 'path' | 'baudRate' | 'codePage' | 'passwords'>;

const aadOf = (name: string) => `device:${name}`;

/**
 * The `devices` collection, read once at start and kept in memory (a handful
 * of documents); writes go through here and bump `revision`.
 */
export class DeviceStore {
  private readonly records = new Map<string, DeviceRecord>();

  constructor(
    private readonly collection: Collection<DeviceDoc>,
    private readonly keyring: Keyring,
  ) {}

  async load(): Promise<DeviceRecord[]> {
    const docs = await this.collection.find({}).toArray();
    this.records.clear();
    for (const doc of docs) {
      const record = this.open(doc);
      this.records.set(doc._id, record);
      if (doc.passwords && doc.passwords.keyId !== this.keyring.currentKeyId) {
        await this.collection.updateOne({ _id: doc._id }, { $set: { passwords: this.sealPasswords(doc._id, record.passwords) } });
      }
    }
    return this.list();
  }

  get(name: string): DeviceRecord | null {
    return this.records.get(name) ?? null;
  }

  list(): DeviceRecord[] {
    return [...this.records.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async put(name: string, next: DeviceWrite, by: string, source: DeviceDoc['source']): Promise<DeviceRecord> {
    const now = new Date();
    const current = this.records.get(name) ?? null;
    const doc: DeviceDoc = {
      _id: name,
      kind: next.kind,
      driver: next.driver,
      path: next.path,
      baudRate: next.baudRate,
      codePage: next.codePage,
      passwords: this.sealPasswords(name, next.passwords),
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

  async delete(name: string): Promise<boolean> {
    const result = await this.collection.deleteOne({ _id: name });
    this.records.delete(name);
    return result.deletedCount > 0;
  }

  private sealPasswords(name: string, passwords: DevicePasswords | null): SealedSecret | null {
    return passwords ? this.keyring.seal(JSON.stringify(passwords), aadOf(name)) : null;
  }

  private open(doc: DeviceDoc): DeviceRecord {
    let passwords: DevicePasswords | null = null;
    if (doc.passwords) {
      try {
        passwords = JSON.parse(this.keyring.open(doc.passwords, aadOf(doc._id))) as DevicePasswords;
      } catch (error) {
        throw new MasterKeyError(`the passwords of device "${doc._id}" cannot be decrypted: ${(error as Error).message}`);
      }
    }
    return {
      name: doc._id,
      kind: doc.kind,
      driver: doc.driver,
      path: doc.path,
      baudRate: doc.baudRate,
      codePage: doc.codePage,
      passwords,
      revision: doc.revision,
      source: doc.source,
      createdAt: doc.createdAt,
      updatedAt: doc.updatedAt,
      updatedBy: doc.updatedBy,
    };
  }
}

/**
 * Which receipt has a fiscal register to itself, from reading its document
 * number until the receipt is recorded (or voided): the judgement of an
 * interrupted receipt holds only if no other document came between. One
 * document per register; taken by a unique insert (atomic on FerretDB too),
 * so it holds across processes and restarts.
 */
export interface RegisterLockDoc {
  _id: string; // the register's name
  /** the receipt (or `report:<id>`) holding it */
  holder: string;
  acquiredAt: Date;
}

export const registerLocksCollection = defineCollection<RegisterLockDoc>({
  name: 'register_locks',
  description: 'which receipt has a fiscal register to itself, until it is recorded',
});
