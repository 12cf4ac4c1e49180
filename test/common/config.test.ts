import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, describeConfig, loadConfig } from '../../common/config.ts';

function problems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  assert.fail('expected the configuration to be refused');
}

test('defaults make a working development configuration', () => {
  const config = loadConfig({});
  assert.equal(config.env, 'development');
  assert.equal(config.port, 3000);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.mongodbUri, undefined);
  assert.equal(config.mongodbDb, 'hub');
  assert.equal(config.dataDir, path.resolve('./data'));
  assert.equal(config.publicBaseUrl, 'http://127.0.0.1:3000');
  assert.equal(config.bodyLimitBytes, 1024 * 1024);
  assert.equal(config.actorCacheSize, 1000);
});

test('each invalid variable is named with what to set', () => {
  const message = problems({
    PORT: 'eighty',
    MONGODB_URI: 'postgres://x',
    LOG_LEVEL: 'loud',
    HUB_BODY_LIMIT: 'huge',
    HUB_ACTOR_CACHE_SIZE: '0',
    PUBLIC_BASE_URL: 'not a url',
    NODE_ENV: 'staging',
  });
  for (const variable of ['PORT', 'MONGODB_URI', 'LOG_LEVEL', 'HUB_BODY_LIMIT', 'HUB_ACTOR_CACHE_SIZE', 'PUBLIC_BASE_URL', 'NODE_ENV']) {
    assert.match(message, new RegExp(`^${variable}: `, 'm'), `${variable} is reported`);
  }
});

test('production requires an admin key and a master key', () => {
  const message = problems({ NODE_ENV: 'production' });
  assert.match(message, /ADMIN_API_KEY: required/);
  assert.match(message, /HUB_MASTER_KEY: required/);
  const ok = loadConfig({ NODE_ENV: 'production', ADMIN_API_KEY: 'a'.repeat(32), HUB_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') });
  assert.equal(ok.masterKey?.length, 32);
});

test('secrets never appear in errors or in the logged summary', () => {
  const shortKey = 'short-secret-key';
  const badMaster = 'bm90LTMyLWJ5dGVz';
  const message = problems({ ADMIN_API_KEY: shortKey, HUB_MASTER_KEY: badMaster });
  assert.ok(!message.includes(shortKey));
  assert.ok(!message.includes(badMaster));
  const config = loadConfig({ ADMIN_API_KEY: 'x'.repeat(30), MONGODB_URI: 'mongodb://hub:pa55word@db.internal:27017/' });
  const summary = JSON.stringify(describeConfig(config));
  assert.ok(!summary.includes('pa55word'));
  assert.ok(!summary.includes('x'.repeat(30)));
  assert.match(summary, /"adminApiKey":"\[set\]"/);
});

test('PUBLIC_BASE_URL defaults to the listening address, and sizes accept units', () => {
  const config = loadConfig({ HOST: '0.0.0.0', PORT: '8080', HUB_BODY_LIMIT: '100kb' });
  assert.equal(config.publicBaseUrl, 'http://0.0.0.0:8080');
  assert.equal(config.bodyLimitBytes, 100 * 1024);
  assert.equal(loadConfig({ PUBLIC_BASE_URL: 'https://hub.example.com/' }).publicBaseUrl, 'https://hub.example.com');
});
