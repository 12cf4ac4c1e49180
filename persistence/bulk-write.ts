import type { AnyBulkWriteOperation, BulkWriteOptions, Collection, Document } from 'mongodb';

/**
 * The most statements one write command carries. FerretDB 1.24 keeps each update
 * statement's query (and its connection to the storage) open until the command
 * ends, and takes one more connection to write: the connections of every process's
 * commands in flight must fit the pool FerretDB keeps per database, or they all
 * wait for each other for good (ferretdb-limits.ts).
 * Each bulk write is therefore sent in commands of at most this many.
 */
export const MAX_STATEMENTS_PER_COMMAND = 8;

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
