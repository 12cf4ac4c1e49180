import { createHash, randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import { constantTimeEqual } from '../common/security.ts';
import { isDuplicateKeyError, type ApiKeyDoc } from '../persistence/collections.ts';

export type Role = ApiKeyDoc['role'];
export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer'];

export interface Principal {
  keyId: string;
  name: string;
  role: Role;
}

const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** API keys are stored as SHA-256 hashes; the key itself is shown once, when created. */
export class ApiKeys {
  private readonly cache = new Map<string, { principal: Principal | null; at: number }>();

  constructor(private readonly keys: Collection<ApiKeyDoc>) {}

  static generate(): string {
    return `hub_${randomBytes(24).toString('base64url')}`;
  }

  async ensure(key: string, name: string, role: Role, createdBy: string): Promise<void> {
    const id = hashKey(key);
    try {
      await this.keys.insertOne({ _id: id, name, role, prefix: key.slice(0, 8), createdAt: new Date(), createdBy });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  async create(name: string, role: Role, createdBy: string): Promise<{ key: string; record: Omit<ApiKeyDoc, '_id'> & { id: string } }> {
    const key = ApiKeys.generate();
    const record = { _id: hashKey(key), name, role, prefix: key.slice(0, 8), createdAt: new Date(), createdBy };
    await this.keys.insertOne(record);
    const { _id, ...rest } = record;
    return { key, record: { id: _id.slice(0, 12), ...rest } };
  }

  async list(): Promise<Array<{ id: string; name: string; role: Role; prefix: string; createdAt: string; createdBy: string }>> {
    const docs = await this.keys.find({}).toArray();
    return docs
      .map((d) => ({
        id: d._id.slice(0, 12),
        name: d.name,
        role: d.role,
        prefix: d.prefix,
        createdAt: d.createdAt.toISOString(),
        createdBy: d.createdBy,
      }))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async revoke(id: string): Promise<boolean> {
    const docs = await this.keys.find({}, { projection: { _id: 1 } }).toArray();
    const match = docs.find((d) => d._id.startsWith(id) && id.length >= 8);
    if (!match) return false;
    await this.keys.deleteOne({ _id: match._id });
    this.cache.clear();
    return true;
  }

  /** Resolves a presented key; lookups are cached briefly so a hot path costs no database read. */
  async authenticate(presented: string): Promise<Principal | null> {
    const id = hashKey(presented);
    const cached = this.cache.get(id);
    if (cached && Date.now() - cached.at < 30_000) return cached.principal;
    const doc = await this.keys.findOne({ _id: id });
    const principal = doc && constantTimeEqual(doc._id, id) ? { keyId: doc._id.slice(0, 12), name: doc.name, role: doc.role } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(id, { principal, at: Date.now() });
    return principal;
  }
}
