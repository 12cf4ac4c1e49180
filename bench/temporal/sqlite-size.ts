import { open, readFile, stat } from 'node:fs/promises';

/**
 * The bytes of an SQLite database's live pages — (pages − free pages) × page size — read from its files, with
 * no SQLite library: Node 20 has none built in, and the benchmark must measure a database whose server may
 * have left committed pages in its write-ahead log (Temporal's dev server does not checkpoint when it stops;
 * FerretDB does, unless it was killed).
 *
 * The file's size says little: SQLite keeps a file's high-water mark and reuses freed pages, so a database
 * that deletes rows (the hub's housekeeping, Temporal's task queues) and one that does not look alike, and a
 * -wal file is mostly pages already copied back. So: the main file's header (sqlite.org/fileformat.html §1.3),
 * then the WAL's valid frames (§4), whose last commit frame carries the database's size in pages and whose
 * last image of page 1 carries the free-page count.
 */
export async function sqliteLiveBytes(file: string): Promise<number> {
  const main = await readSqliteHeader(file);
  const rawPageSize = main.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65_536 : rawPageSize;
  // the header's page count holds only while its "version-valid-for" equals the change counter
  let pages = main.readUInt32BE(92) === main.readUInt32BE(24) ? main.readUInt32BE(28) : Math.ceil((await stat(file)).size / pageSize);
  let freePages = main.readUInt32BE(36);

  const wal = await readFile(`${file}-wal`).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  const committed = wal === null ? null : lastCommit(wal, pageSize);
  if (committed !== null) {
    pages = committed.pages;
    if (committed.firstPage !== null) freePages = committed.firstPage.readUInt32BE(36);
  }
  return (pages - freePages) * pageSize;
}

/** The 100-byte header of an SQLite database file (sqlite.org/fileformat.html §1.3). */
export async function readSqliteHeader(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  const header = Buffer.alloc(100);
  try {
    await handle.read(header, 0, 100, 0);
  } finally {
    await handle.close();
  }
  if (header.toString('latin1', 0, 15) !== 'SQLite format 3') throw new Error(`${file} is not an SQLite database`);
  return header;
}

/** The journal mode a database file was last written in: bytes 18 and 19 of its header are 2 for WAL, 1 for a rollback journal. */
export async function sqliteJournalMode(file: string): Promise<string> {
  const header = await readSqliteHeader(file);
  return header[18] === 2 && header[19] === 2 ? 'wal' : `rollback (header ${header[18]}/${header[19]})`;
}

const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/** The last committed transaction of a WAL: the database's size in pages then, and page 1 as it then was. */
function lastCommit(wal: Buffer, pageSize: number): { pages: number; firstPage: Buffer | null } | null {
  if (wal.length < WAL_HEADER) return null;
  const magic = wal.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return null;
  if (wal.readUInt32BE(8) !== pageSize) return null;
  const bigEndian = magic === 0x377f0683;
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let sum = checksum(wal, 0, 24, [0, 0], bigEndian);
  if (sum[0] !== wal.readUInt32BE(24) || sum[1] !== wal.readUInt32BE(28)) return null;

  let result: { pages: number; firstPage: Buffer | null } | null = null;
  let firstPageSinceCommit: Buffer | null = null;
  let firstPageAtCommit: Buffer | null = null;
  for (let at = WAL_HEADER; at + FRAME_HEADER + pageSize <= wal.length; at += FRAME_HEADER + pageSize) {
    // a frame counts only with this WAL's salts and a checksum continuing the one before it
    if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
    sum = checksum(wal, at, 8, sum, bigEndian);
    sum = checksum(wal, at + FRAME_HEADER, pageSize, sum, bigEndian);
    if (sum[0] !== wal.readUInt32BE(at + 16) || sum[1] !== wal.readUInt32BE(at + 20)) break;
    const pageNumber = wal.readUInt32BE(at);
    if (pageNumber === 1) firstPageSinceCommit = wal.subarray(at + FRAME_HEADER, at + FRAME_HEADER + pageSize);
    const pagesAfterCommit = wal.readUInt32BE(at + 4);
    if (pagesAfterCommit > 0) {
      if (firstPageSinceCommit !== null) firstPageAtCommit = firstPageSinceCommit;
      firstPageSinceCommit = null;
      result = { pages: pagesAfterCommit, firstPage: firstPageAtCommit };
    }
  }
  return result;
}

/** SQLite's WAL checksum over `length` bytes (a multiple of 8) from `start`, continuing from `[s0, s1]`. */
function checksum(data: Buffer, start: number, length: number, [s0, s1]: [number, number], bigEndian: boolean): [number, number] {
  const word = bigEndian ? (i: number) => data.readUInt32BE(i) : (i: number) => data.readUInt32LE(i);
  for (let i = start; i < start + length; i += 8) {
    s0 = (s0 + word(i) + s1) >>> 0;
    s1 = (s1 + word(i + 4) + s0) >>> 0;
  }
  return [s0, s1];
}
