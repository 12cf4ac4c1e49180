import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { StaticFiles, type StaticAsset } from '../static-files.ts';

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
const ASSETS: Record<string, StaticAsset> = {
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
  const files = new StaticFiles(ASSETS);

  router.get('/admin', documented.page, async (ctx) => {
    await files.page(
      ctx,
      path.join(here, '../console/index.html'),
      "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; script-src 'self'",
    );
  });

  router.get('/admin/assets/:file', documented.asset, async (ctx) => {
    await files.asset(ctx, ctx.params.file ?? '');
  });

  return router;
}
