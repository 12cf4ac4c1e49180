import { readFile } from 'node:fs/promises';
import type { Context } from 'koa';
import { errors } from '../common/errors.ts';

/** A file the hub serves as is, by name. */
export interface StaticAsset {
  file: string;
  type: string;
  cache: string;
}

/**
 * The static files of a page the hub serves (the console, the API docs):
 * read once and kept, looked up by name among the page's own entries only
 * (`constructor` and its kin are on every object), anything else a 404.
 */
export class StaticFiles {
  private readonly loaded = new Map<string, Buffer>();

  constructor(private readonly assets: Readonly<Record<string, StaticAsset>>) {}

  /** The page itself: HTML, never cached by the browser, under this Content-Security-Policy. */
  async page(ctx: Context, file: string, contentSecurityPolicy: string): Promise<void> {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Content-Security-Policy', contentSecurityPolicy);
    ctx.body = await this.read(file);
  }

  /** One of the page's assets by its name. */
  async asset(ctx: Context, name: string): Promise<void> {
    const asset = Object.hasOwn(this.assets, name) ? this.assets[name] : undefined;
    if (!asset) throw errors.notFound(`asset ${name}`);
    ctx.type = asset.type;
    ctx.set('Cache-Control', asset.cache);
    ctx.body = await this.read(asset.file);
  }

  private async read(file: string): Promise<Buffer> {
    const cached = this.loaded.get(file);
    if (cached) return cached;
    const content = await readFile(file);
    this.loaded.set(file, content);
    return content;
  }
}
