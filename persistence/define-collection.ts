import type { Collection, Db, Document } from 'mongodb';

/**
 * A collection is declared once, beside its document type: its name, what it
 * holds and its indexes. The declaration opens the typed collection and
 * creates the collection and its indexes; nothing else names either.
 *
 * Index options stay within what FerretDB 1.24 (the embedded database)
 * accepts: plain and compound keys, `unique`. No TTL or partial indexes —
 * retention is a job, and a unique insert is the only atomic guard there.
 */

/** Ascending or descending, per field, in the order the fields are written. */
type IndexDirection = 1 | -1;

export interface IndexDeclaration<TDoc> {
  /** Fields of the document only: a misspelt field would index nothing and does not compile. */
  key: { readonly [field in keyof TDoc & string]?: IndexDirection };
  unique?: boolean;
  /**
   * Leave it out to get the driver's own name (`status_1_createdAt_1`), the
   * name databases created before these declarations already hold: the same
   * key under another name would be refused, or kept twice.
   */
  name?: string;
}

/** An index as it is created: its name settled. */
export interface DeclaredIndex {
  key: Readonly<Record<string, IndexDirection>>;
  unique: boolean;
  name: string;
}

/** What every declaration offers whatever its document type: enough to list it and create it. */
export interface DeclaredCollection {
  readonly name: string;
  /** what the collection is for, for people reading a database */
  readonly description: string;
  readonly indexes: readonly DeclaredIndex[];
  /** Creates the collection and its indexes when missing; safe from every process at every start. */
  ensureIndexes(db: Db): Promise<void>;
}

export interface CollectionDeclaration<TDoc extends Document> extends DeclaredCollection {
  open(db: Db): Collection<TDoc>;
}

export function defineCollection<TDoc extends Document>(declaration: {
  name: string;
  description: string;
  indexes?: ReadonlyArray<IndexDeclaration<TDoc>>;
}): CollectionDeclaration<TDoc> {
  const { name, description } = declaration;
  const indexes: DeclaredIndex[] = (declaration.indexes ?? []).map((index) => {
    const key = index.key as Record<string, IndexDirection>;
    return { key, unique: index.unique ?? false, name: index.name ?? driverIndexName(key) };
  });
  return {
    name,
    description,
    indexes,
    open: (db) => db.collection<TDoc>(name),
    async ensureIndexes(db) {
      // First the collection, which FerretDB wants before its indexes; one without indexes is created too,
      // so every declared collection exists from the first start.
      await db.createCollection(name).catch((error: unknown) => {
        if (!isNamespaceExists(error)) throw error;
      });
      // One at a time: an index already there under this name and key is left as it is; the first refusal stops the start.
      for (const index of indexes) {
        await db.collection(name).createIndex({ ...index.key }, index.unique ? { name: index.name, unique: true } : { name: index.name });
      }
    },
  };
}

/** Creates every listed collection and its indexes, in order. */
export async function ensureCollectionIndexes(db: Db, declarations: readonly DeclaredCollection[]): Promise<void> {
  for (const declaration of declarations) await declaration.ensureIndexes(db);
}

/** Declarations under names of the caller's choosing, e.g. every collection of the order flow. */
type CollectionGroup = Record<string, { open(db: Db): unknown }>;

/** The collections of a group, under the group's own names. */
export type OpenedCollections<TGroup extends CollectionGroup> = { [member in keyof TGroup]: ReturnType<TGroup[member]['open']> };

/** Opens every collection of a group at once. */
export function openCollections<TGroup extends CollectionGroup>(db: Db, group: TGroup): OpenedCollections<TGroup> {
  const opened = Object.fromEntries(Object.entries(group).map(([member, declaration]) => [member, declaration.open(db)]));
  return opened as OpenedCollections<TGroup>;
}

/** The name the MongoDB driver gives an index when none is given: `field_direction` pairs joined by `_`. */
function driverIndexName(key: Record<string, IndexDirection>): string {
  return Object.entries(key).flat().join('_');
}

function isNamespaceExists(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === 48;
}
