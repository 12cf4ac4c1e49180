import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The house's rule, checked on every source file: imports point down the
 * layers (README, "Architecture"), and the two sideways rules hold —
 * connectors know no machine, and nothing but the composition root and
 * HTTP reaches into a domain from outside it.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

type Layer = 'common' | 'persistence' | 'hardware' | 'machines' | 'runtime' | 'platform' | 'domains' | 'system' | 'http' | 'scripts';

/** What each layer may import besides itself. */
const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  common: [],
  persistence: ['common'],
  /** serial drivers and device emulators: below the actors, beside persistence */
  hardware: ['common'],
  machines: ['common'],
  runtime: ['common', 'persistence', 'machines'],
  platform: ['common', 'persistence', 'hardware', 'machines', 'runtime'],
  domains: ['common', 'persistence', 'hardware', 'machines', 'runtime', 'platform'],
  system: ['common', 'persistence', 'hardware', 'machines', 'runtime', 'platform', 'domains'],
  http: ['common', 'persistence', 'hardware', 'machines', 'runtime', 'platform', 'domains', 'system'],
  scripts: ['common', 'persistence', 'hardware', 'machines', 'runtime', 'platform', 'domains', 'system', 'http'],
};

function layerOf(file: string): Layer | null {
  const [top, second] = file.split('/');
  if (top === 'actors') {
    if (second === 'system.ts') return 'system';
    if (second === 'runtime' || second === 'platform' || second === 'domains') return second;
    return null;
  }
  if (top === 'common' || top === 'persistence' || top === 'hardware' || top === 'machines' || top === 'http' || top === 'scripts')
    return top;
  return null;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(path.join(repoRoot, dir), { withFileTypes: true })) {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sourceFiles(relative)));
    else if (entry.name.endsWith('.ts')) found.push(relative);
  }
  return found;
}

const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(path.join(repoRoot, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((match) => path.normalize(path.join(path.dirname(file), match[1] as string)));
}

test('every import points down the layers; connectors import no machine', async () => {
  const files = (await Promise.all(['actors', 'common', 'persistence', 'hardware', 'machines', 'http', 'scripts'].map(sourceFiles))).flat();
  assert.ok(files.length > 100, `found ${files.length} source files`);
  const wrong: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    assert.ok(from, `${file} belongs to no layer: put it in one`);
    for (const target of await importsOf(file)) {
      const to = layerOf(target);
      if (!to) {
        wrong.push(`${file} imports ${target}, which belongs to no layer`);
        continue;
      }
      if (to !== from && !MAY_IMPORT[from].includes(to)) wrong.push(`${file} (${from}) imports ${target} (${to})`);
      if (file.startsWith('actors/platform/connectors/') && to === 'machines')
        wrong.push(`${file}: a connector imports a machine (${target})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('the layer check sees an import that points up', async () => {
  // the same reading of imports, on a line it must not let pass
  const line = "import { startHub } from '../../http/server.ts';";
  const target = [...line.matchAll(IMPORT)].map((match) => path.normalize(path.join('actors/runtime', match[1] as string)))[0] ?? '';
  assert.equal(layerOf(target), 'http');
  assert.equal(MAY_IMPORT.runtime.includes('http'), false);
});
