import path from 'node:path';
import { startControlServer, type MountedRoutes } from '../hardware/emulators/control-server.ts';
import { EscPosEmulator, receiptText } from '../hardware/emulators/escpos-emulator.ts';
import { SocatMissingError } from '../hardware/emulators/pty-pair.ts';
import { ShtrihMEmulator } from '../hardware/emulators/shtrih-m-emulator.ts';
import { DEFAULT_CODE_PAGE, isCodePage } from '../hardware/escpos/code-pages.ts';

/**
 * `npm run devices [-- --dir DIR] [--port N] [--code-page 17|44|46] [--only fiscal|printer] [--line-rate BAUD] [--json]`:
 * a Shtrih-M register emulator and an ESC/POS printer emulator, each on a
 * socat PTY pair, for a developer with a real POS application (or a hub in
 * another process). Prints the host-side paths to configure and the control
 * URL; the console shows each receipt the printer prints. Fiscal memory is
 * kept in DIR/fiscal-main.fiscal.json across runs. `--json` prints one JSON
 * line when ready (for scripts that start it as a child process).
 */

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const fail = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(2);
};

const dir = path.resolve(option('dir') ?? path.join(process.env.DATA_DIR ?? 'data', 'devices'));
const port = Number(option('port') ?? '0');
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail('--port must be a whole number from 0 to 65535');
const codePage = Number(option('code-page') ?? DEFAULT_CODE_PAGE);
if (!isCodePage(codePage)) fail('--code-page must be one of 0, 2, 16, 17, 18, 44, 46');
const only = option('only');
if (only !== undefined && only !== 'fiscal' && only !== 'printer') fail('--only is fiscal or printer');
const lineRate = option('line-rate') === undefined ? undefined : Number(option('line-rate'));
if (lineRate !== undefined && !(Number.isInteger(lineRate) && lineRate > 0)) fail('--line-rate is a speed in baud, e.g. 115200');
const json = args.includes('--json');

let fiscal: ShtrihMEmulator | null = null;
let printer: EscPosEmulator | null = null;
try {
  if (only !== 'printer') fiscal = await ShtrihMEmulator.start({ dir, name: 'fiscal-main', ...(lineRate ? { lineRate } : {}) });
  if (only !== 'fiscal') {
    printer = await EscPosEmulator.start({
      dir,
      name: 'printer-main',
      codePage: isCodePage(codePage) ? codePage : DEFAULT_CODE_PAGE,
      echo: json ? undefined : (receipt) => process.stdout.write(`\n${receiptText(receipt)}\n`),
    });
  }
} catch (error) {
  if (error instanceof SocatMissingError) fail(error.message);
  throw error;
}

const mounts: MountedRoutes[] = [];
if (fiscal) mounts.push({ prefix: '/fiscal-main', routes: fiscal.controlRoutes() });
if (printer) mounts.push({ prefix: '/printer-main', routes: printer.controlRoutes() });
const control = await startControlServer(mounts, { port });

if (json) {
  process.stdout.write(
    `${JSON.stringify({ fiscal: fiscal?.hostPath ?? null, printer: printer?.hostPath ?? null, control: control.url })}\n`,
  );
} else {
  const lines = ['device emulators running (Ctrl-C stops them)'];
  if (fiscal) {
    lines.push(
      `  fiscal register (Shtrih-M, passwords 1 / 30): ${fiscal.hostPath}`,
      `    fiscal memory: ${fiscal.memoryFile}`,
      `    control: ${control.url}/fiscal-main/__sandbox/state  (POST …/paper {"state":"out"}, …/cover {"open":true}, …/clock {"advanceMs":86400000},`,
      `             …/faults {"kind":"slow|garble|silence|nak|dropAck|busy"}, …/unplug, …/plug; GET …/documents)`,
    );
  }
  if (printer) {
    lines.push(
      `  receipt printer (ESC/POS, ESC t ${codePage}): ${printer.hostPath}`,
      `    control: ${control.url}/printer-main/__sandbox/state  (GET …/receipts/last; POST …/paper, …/cover, …/unplug, …/plug, …/reset)`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void Promise.all([fiscal?.stop(), printer?.stop(), control.close()]).finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
