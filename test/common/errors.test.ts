import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_ERROR_STATUS, errors, type AppErrorCode } from '../../common/errors.ts';

const readme = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../README.md');

/** `| 409 | \`event_not_accepted\` | …` rows of the README's error table, as [status, code] pairs. */
async function documentedCodes(): Promise<Array<[number, string]>> {
  const rows = (await readFile(readme, 'utf8')).split('\n').filter((line) => /^\| \d{3} \| `/.test(line));
  return rows.flatMap((row) => {
    const [, status, codes] = /^\| (\d{3}) \| ([^|]+) \|/.exec(row) ?? [];
    return [...(codes ?? '').matchAll(/`([a-z_]+)`/g)].map(([, code]): [number, string] => [Number(status), code ?? '']);
  });
}

test("every code in the README's error table is an AppErrorCode, answered with the status the README gives it", async () => {
  const documented = await documentedCodes();
  assert.ok(documented.length > 10, 'the README has its error table');
  for (const [status, code] of documented) {
    assert.ok(code in APP_ERROR_STATUS, `${code} is documented but no AppError carries it`);
    assert.equal(APP_ERROR_STATUS[code as AppErrorCode], status, `${code}'s status`);
  }
});

test("the service's own errors take their status from the table", () => {
  for (const error of [
    errors.badRequest('x'),
    errors.notFound('x'),
    errors.conflict('x'),
    errors.eventNotAccepted('idle', 'X', [], 'active'),
    errors.machineError('x'),
    errors.contention('x'),
  ]) {
    assert.equal(error.status, APP_ERROR_STATUS[error.code], error.code);
  }
});
