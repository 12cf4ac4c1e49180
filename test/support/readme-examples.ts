/**
 * The request examples of a README, in the three forms it writes them:
 *
 * - `curl` commands in fenced blocks, to the hub (`localhost:3000/…`): method (`-X`), path, query, `-d` body;
 * - a fenced block whose first line is `METHOD /path` and whose rest is the JSON body;
 * - in the text, a code span `METHOD /path` followed directly by a code span holding a JSON body (or one
 *   span `METHOD /path {…}`). Spans that are not JSON (`{"name", "role"}`, the README's shorthand for
 *   "these fields") are not examples and are left out.
 */
export interface ReadmeExample {
  method: string;
  /** as written, placeholders (`<id>`, `:id`) included */
  path: string;
  query: Record<string, string>;
  /** undefined when the example sends no body */
  body: unknown;
  form: 'curl' | 'block' | 'inline';
  line: number;
}

const METHODS = 'GET|POST|PUT|PATCH|DELETE';
const HUB_URL = /^(?:https?:\/\/)?(?:localhost|127\.0\.0\.1):3000(\/[^\s]*)?$/;

/** Shell words of a block: quotes, backslash-newline, comments; `\n` between commands. */
function shellWords(text: string): string[][] {
  const commands: string[][] = [[]];
  let word: string | null = null;
  const end = () => {
    if (word !== null) (commands.at(-1) as string[]).push(word);
    word = null;
  };
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      word = (word ?? '') + text.slice(i + 1, close);
      i = close;
    } else if (c === '"') {
      let value = '';
      for (i += 1; text[i] !== '"'; i += 1) value += text[i] === '\\' ? (text[(i += 1)] as string) : text[i];
      word = (word ?? '') + value;
    } else if (c === '\\' && text[i + 1] === '\n') {
      end();
      i += 1;
    } else if (c === '#' && word === null) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i += 1;
    } else if (c === '\n' || c === ';') {
      end();
      commands.push([]);
    } else if (c === ' ' || c === '\t') {
      end();
    } else {
      word = (word ?? '') + c;
    }
  }
  end();
  return commands.filter((command) => command.length > 0);
}

function splitTarget(target: string): { path: string; query: Record<string, string> } {
  const url = new URL(target, 'http://hub');
  // placeholders such as <id> are kept as written
  return { path: decodeURIComponent(url.pathname), query: Object.fromEntries(url.searchParams) };
}

function curlExample(words: string[], line: number): ReadmeExample | null {
  if (words[0] !== 'curl') return null;
  let method: string | null = null;
  let body: string | undefined;
  let target: string | null = null;
  for (let i = 1; i < words.length; i += 1) {
    const word = words[i] as string;
    if (word === '-X' || word === '--request') method = words[(i += 1)] ?? null;
    else if (word === '-d' || word === '--data' || word === '--data-raw') body = words[(i += 1)];
    else if (word === '-H' || word === '--header' || word === '-o' || word === '--output') i += 1;
    else if (!word.startsWith('-')) target = word;
  }
  const hub = target ? HUB_URL.exec(target) : null;
  if (!hub) return null;
  return {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    ...splitTarget(hub[1] ?? '/'),
    body: body === undefined ? undefined : (JSON.parse(body) as unknown),
    form: 'curl',
    line,
  };
}

function parseJson(text: string): { value: unknown } | null {
  try {
    return { value: JSON.parse(text.replace(/\\\|/g, '|')) as unknown };
  } catch {
    return null;
  }
}

export function readmeExamples(markdown: string): ReadmeExample[] {
  const lines = markdown.split('\n');
  const examples: ReadmeExample[] = [];
  let prose: Array<{ text: string; line: number }> = [];
  const scanProse = () => {
    const text = prose.map((entry) => entry.text).join('\n');
    const lineAt = (index: number) => (prose[0]?.line ?? 0) + text.slice(0, index).split('\n').length - 1;
    const spans = new RegExp('`(' + METHODS + ') (/[^`\\s]*)(?:`\\s*`| )(\\{[^`]*\\})`', 'g');
    for (const match of text.matchAll(spans)) {
      const json = parseJson((match[3] as string).replace(/\n\s*/g, ' '));
      if (!json) continue;
      examples.push({
        method: match[1] as string,
        ...splitTarget(match[2] as string),
        body: json.value,
        form: 'inline',
        line: lineAt(match.index),
      });
    }
    prose = [];
  };

  for (let i = 0; i < lines.length; i += 1) {
    const fence = /^\s*```/.exec(lines[i] as string);
    if (!fence) {
      prose.push({ text: lines[i] as string, line: i + 1 });
      continue;
    }
    scanProse();
    const start = i + 1;
    const block: string[] = [];
    for (i += 1; i < lines.length && !/^\s*```/.test(lines[i] as string); i += 1) block.push(lines[i] as string);
    const first = new RegExp('^(' + METHODS + ') (/\\S*)$').exec((block[0] ?? '').trim());
    if (first) {
      const json = parseJson(block.slice(1).join('\n'));
      if (!json) throw new Error(`README line ${start}: the body under "${block[0]}" is not JSON`);
      examples.push({ method: first[1] as string, ...splitTarget(first[2] as string), body: json.value, form: 'block', line: start + 1 });
      continue;
    }
    // the line each command starts on, for the failure messages
    let offset = 0;
    for (const words of shellWords(block.join('\n'))) {
      const at = block.findIndex((text, index) => index >= offset && text.includes(words[0] as string));
      offset = at < 0 ? offset : at + 1;
      const example = curlExample(words, start + 1 + Math.max(at, 0));
      if (example) examples.push(example);
    }
  }
  scanProse();
  return examples;
}
