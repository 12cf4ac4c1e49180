import type { AnyBulkWriteOperation, BulkWriteOptions, Collection, Document } from 'mongodb';

/**
 * The most statements one write command carries. FerretDB 1.24 on SQLite keeps
 * each statement's query open until an update command ends and takes a
 * connection from a pool of 100 for every one: an update of 100 statements
 * waits for a connection forever, and holds the database's connections while
 * it waits. Each bulk write is therefore sent in commands of at most this many.
 */
export const MAX_STATEMENTS_PER_COMMAND = 50;

/**
 * `bulkWrite` in commands of at most MAX_STATEMENTS_PER_COMMAND operations. Unordered (the default): every
 * command is sent even when one fails, and the first failure is thrown at the end; ordered: stops at it.
 */
export async function bulkWriteInCommands<T extends Document>(
  collection: Collection<T>,
  operations: ReadonlyArray<AnyBulkWriteOperation<T>>,
  options: BulkWriteOptions = { ordered: false },
): Promise<void> {
  let failure: unknown = null;
  for (let offset = 0; offset < operations.length; offset += MAX_STATEMENTS_PER_COMMAND) {
    try {
      await collection.bulkWrite(operations.slice(offset, offset + MAX_STATEMENTS_PER_COMMAND), options);
    } catch (error) {
      if (options.ordered !== false) throw error;
      failure ??= error;
    }
  }
  if (failure !== null) throw failure;
}
