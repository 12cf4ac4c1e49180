import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { errors } from '../../common/errors.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';

const documented = contracts('Console', {
  page: {
    summary: 'The web console (HTML; it asks for an API key)',
    auth: 'none',
    responses: { 200: { description: 'HTML', mediaType: 'text/html' } },
  },
  asset: { summary: "The console's files", auth: 'none', responses: { 200: { description: 'the file', mediaType: '*/*' } } },
});

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The files the console is made of: ours, and Mermaid (which draws the statecharts) from npm. */
const ASSETS: Record<string, { file: string; type: string; cache: string }> = {
  'console.js': { file: path.join(here, '../console/console.js'), type: 'text/javascript; charset=utf-8', cache: 'no-cache' },
  'console.css': { file: path.join(here, '../console/console.css'), type: 'text/css; charset=utf-8', cache: 'no-cache' },
  'mermaid.min.js': {
    file: path.join(path.dirname(require.resolve('mermaid/package.json')), 'dist/mermaid.min.js'),
    type: 'text/javascript; charset=utf-8',
    cache: 'public, max-age=86400',
  },
};

/**
 * `GET /admin`: the web console, static files without an API key (the page
 * asks for one and sends it with every API call it makes).
 */
export function consoleRoutes(): Router<HubState> {
  const router = new Router<HubState>();
  const cache = new Map<string, Buffer>();
  const load = async (file: string) => {
    const cached = cache.get(file);
    if (cached) return cached;
    const content = await readFile(file);
    cache.set(file, content);
    return content;
  };

  router.get('/admin', documented.page, async (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; script-src 'self'");
    ctx.body = await load(path.join(here, '../console/index.html'));
  });

  router.get('/admin/assets/:file', documented.asset, async (ctx) => {
    const file = ctx.params.file ?? '';
    // an own entry only: `constructor` and its kin are on every object
    const asset = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!asset) throw errors.notFound(`asset ${file}`);
    ctx.type = asset.type;
    ctx.set('Cache-Control', asset.cache);
    ctx.body = await load(asset.file);
  });

  return router;
}
