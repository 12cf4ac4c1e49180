import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';
import Router from '@koa/router';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { StaticFiles, type StaticAsset } from '../static-files.ts';
import { buildOpenApiDocument, routersOf } from '../openapi/document.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const swaggerUi = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const { version } = require('../../package.json') as { version: string };

/** The page's files: our starter script, and Swagger UI from npm (served by the hub: the page works offline). */
const ASSETS: Record<string, StaticAsset> = {
  'docs.js': { file: path.join(here, '../docs/docs.js'), type: 'text/javascript; charset=utf-8', cache: 'no-cache' },
  'swagger-ui-bundle.js': {
    file: path.join(swaggerUi, 'swagger-ui-bundle.js'),
    type: 'text/javascript; charset=utf-8',
    cache: 'public, max-age=86400',
  },
  'swagger-ui.css': { file: path.join(swaggerUi, 'swagger-ui.css'), type: 'text/css; charset=utf-8', cache: 'public, max-age=86400' },
  'favicon-32x32.png': { file: path.join(swaggerUi, 'favicon-32x32.png'), type: 'image/png', cache: 'public, max-age=86400' },
};

const documented = contracts('Documentation', {
  document: { summary: 'This document (OpenAPI 3.1)', auth: 'none' },
  page: {
    summary: 'The API documentation page (Swagger UI)',
    auth: 'none',
    responses: { 200: { description: 'HTML', mediaType: 'text/html' } },
  },
  asset: { summary: "The documentation page's files", auth: 'none', responses: { 200: { description: 'the file', mediaType: '*/*' } } },
});

/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of every route of `app`, built once from the contracts the
 * routes declare (mount this last, so that every router is on the app); `GET /docs`: Swagger UI over it.
 * No API key: the document describes the API, it opens nothing.
 */
export function documentationRoutes(app: Koa<HubState>): Router<HubState> {
  const router = new Router<HubState>();
  const files = new StaticFiles(ASSETS);

  router.get('/openapi.json', documented.document, (ctx) => {
    ctx.type = 'application/json; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = documentText;
  });

  router.get('/docs', documented.page, async (ctx) => {
    await files.page(
      ctx,
      path.join(here, '../docs/index.html'),
      "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; script-src 'self'; connect-src 'self'",
    );
  });

  router.get('/docs/assets/:file', documented.asset, async (ctx) => {
    await files.asset(ctx, ctx.params.file ?? '');
  });

  // built at start: a schema zod cannot express fails here, not at the first reader
  const documentText = JSON.stringify(
    buildOpenApiDocument([...routersOf(app), router], {
      title: 'Integration Hub',
      version,
      description:
        "Durable state machines for every order, payment, shipment and loan application that crosses a company's borders. " +
        'Every request but the open ones needs `Authorization: Bearer <API key>`; errors are `{"error": {"code", "message", "details"?}}`.',
    }),
  );

  return router;
}
