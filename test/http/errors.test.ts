import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { HubState } from '../../http/context.ts';
import { errorMapping } from '../../http/middleware/errors.ts';
import { requestContext } from '../../http/middleware/request-context.ts';
import { quietLogger } from '../support/runtime-harness.ts';

test('an unexpected error answers 500 without internals, with the request id to find it in the log', async () => {
  const app = new Koa<HubState>();
  app.silent = true;
  app.use(requestContext(quietLogger));
  app.use(errorMapping());
  app.use(() => {
    throw new Error('connection to mongodb://hub:pa55word@db failed at Collection.insertMany (store.ts:120)');
  });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/anything`);
    assert.equal(response.status, 500);
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), {
      error: { code: 'internal_error', message: 'internal error; see the service log with this request id' },
    });
    for (const internal of ['pa55word', 'mongodb', 'store.ts', 'insertMany']) assert.ok(!text.includes(internal));
    assert.ok(response.headers.get('x-request-id'));
  } finally {
    server.close();
  }
});
