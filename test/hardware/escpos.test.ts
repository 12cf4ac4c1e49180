import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { escpos } from '../../hardware/escpos/commands.ts';
import { EscPosPrinter, PrinterError } from '../../hardware/escpos/printer.ts';
import { renderReceipt, type ReceiptTemplate } from '../../hardware/escpos/receipt-layout.ts';
import { EscPosDecoder, type PrintedReceipt } from '../../hardware/emulators/escpos-decoder.ts';
import { EscPosEmulator, receiptText } from '../../hardware/emulators/escpos-emulator.ts';
import { startControlServer } from '../../hardware/emulators/control-server.ts';
import type { CodePage } from '../../hardware/escpos/code-pages.ts';
import { hex, rejection } from './support.ts';

/** ESC/POS: the bytes of a template receipt, decoded back by the printer emulator over a real PTY. */

const template: ReceiptTemplate = {
  shop: { name: 'Кава і чай', details: ['вул. Хрещатик, 1', 'ІПН 1234567890'] },
  title: 'Чек № 15',
  lines: [
    { name: 'Чашка керамічна біла', qty: 2, price: 25_000 },
    { name: 'Чай', qty: 1.5, price: 10_000 },
  ],
  totalRows: [{ label: 'у т.ч. ПДВ 20%', amount: 10_833 }],
  payment: { method: 'Готівка', amount: 70_000, change: 5_000 },
  footer: ['Дякуємо за покупку!'],
  qr: { data: 'https://shop.example/t/20450000000000', caption: 'Відстежити посилку' },
};

async function withPrinter(codePage: CodePage, run: (emulator: EscPosEmulator, printer: EscPosPrinter) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-printer-'));
  const emulator = await EscPosEmulator.start({ dir, codePage });
  const printer = new EscPosPrinter({
    path: emulator.hostPath,
    baudRate: 115_200,
    name: 'printer-main',
    codePage,
    backOff: { initialMs: 50, maxMs: 300, factor: 2 },
  });
  try {
    await run(emulator, printer);
  } finally {
    await printer.close();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function nextReceipt(emulator: EscPosEmulator, count: number): Promise<PrintedReceipt> {
  for (let i = 0; i < 500 && emulator.receipts.length < count; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  const receipt = emulator.receipts[count - 1];
  assert.ok(receipt, 'the printer cut a receipt');
  return receipt;
}

test('QR code bytes: model 2, module size, error level, store (length + 3), print', () => {
  assert.deepEqual(
    escpos.qr('AB', { size: 5, errorLevel: 'Q' }),
    hex(
      '1D 28 6B 04 00 31 41 32 00  1D 28 6B 03 00 31 43 05  1D 28 6B 03 00 31 45 32  1D 28 6B 05 00 31 50 30 41 42  1D 28 6B 03 00 31 51 30',
    ),
  );
  const long = escpos.qr('x'.repeat(300));
  const store = long.indexOf(hex('31 50 30'));
  assert.deepEqual(long.subarray(store - 2, store), hex('2F 01'), '303 bytes stored = 0x012F');
});

test('the other commands are the documented bytes', () => {
  assert.deepEqual(escpos.initialize(), hex('1B 40'));
  assert.deepEqual(escpos.codePage(17), hex('1B 74 11'));
  assert.deepEqual(escpos.codePage(46), hex('1B 74 2E'));
  assert.deepEqual(escpos.align('center'), hex('1B 61 01'));
  assert.deepEqual(escpos.bold(true), hex('1B 45 01'));
  assert.deepEqual(escpos.size(2, 2), hex('1D 21 11'));
  assert.deepEqual(escpos.cut('full'), hex('1D 56 41 03'));
  assert.deepEqual(escpos.cut('partial', 0), hex('1D 56 42 00'));
  assert.deepEqual(escpos.drawerPulse(2), hex('1B 70 00 32 FA'));
  assert.deepEqual(escpos.text('Привіт', 17), hex('8F E0 A8 A2 3F E2'), 'PC866 has no і: it prints ?');
  assert.deepEqual(escpos.text('Привіт', 44), hex('8F E0 A8 A2 F7 E2'));
});

test('a template receipt in PC866 prints and is decoded back line by line, with its QR code and cut', async () => {
  await withPrinter(17, async (emulator, printer) => {
    await printer.printReceipt({ ...template, shop: { name: 'Кава та чай' }, footer: ['Дякуємо'] }, { cut: 'full', openDrawer: true });
    const receipt = await nextReceipt(emulator, 1);
    const texts = receipt.lines.map((line) => line.text);
    assert.equal(receipt.codePage, 17);
    assert.deepEqual(receipt.lines[0], { text: 'Кава та чай', align: 'center', bold: true, size: [2, 2] });
    assert.ok(texts.includes('Чек № 15'));
    assert.ok(texts.includes(`  2 x 250.00${' '.repeat(48 - 12 - 6)}500.00`), texts.join('\n'));
    assert.ok(texts.some((text) => /^СУМА +650\.00 грн$/.test(text) && text.length === 48));
    assert.ok(texts.some((text) => /^Решта +50\.00$/.test(text)));
    assert.deepEqual(receipt.qrCodes, ['https://shop.example/t/20450000000000']);
    assert.equal(receipt.cut, 'full');
    assert.equal(emulator.inProgress.drawerPulses, 1, 'the drawer pulse comes after the cut');
    assert.match(receiptText(receipt), /^ +В\?дстежити посилку$/m, 'PC866 has no і: the reason to choose 44 or 46 for Ukrainian');
  });
});

test('in WPC1251 (46) a Ukrainian receipt keeps every letter', async () => {
  await withPrinter(46, async (emulator, printer) => {
    await printer.printReceipt(template);
    const receipt = await nextReceipt(emulator, 1);
    const texts = receipt.lines.map((line) => line.text);
    assert.equal(receipt.codePage, 46);
    assert.ok(texts.includes('Кава і чай'));
    assert.ok(texts.includes('Чашка керамічна біла'));
    assert.ok(texts.includes('ІПН 1234567890'));
    assert.ok(texts.includes('  1.5 x 100.00' + ' '.repeat(48 - 14 - 6) + '150.00'));
    assert.equal(receipt.cut, 'partial');
  });
});

test('the decoder takes bytes split anywhere', () => {
  const bytes = renderReceipt(template, { codePage: 46 });
  const whole: PrintedReceipt[] = [];
  new EscPosDecoder(17, { onReceipt: (r) => whole.push(r) }).push(bytes);
  const split: PrintedReceipt[] = [];
  const decoder = new EscPosDecoder(17, { onReceipt: (r) => split.push(r) });
  for (let i = 0; i < bytes.length; i += 3) decoder.push(bytes.subarray(i, i + 3));
  assert.equal(whole.length, 1);
  assert.deepEqual(split, whole);
});

test('no paper or cover open: the status says so and a receipt is refused before anything is sent', async () => {
  await withPrinter(17, async (emulator, printer) => {
    assert.deepEqual(await printer.status(), { coverOpen: false, paper: 'present' });
    emulator.paper = false;
    assert.deepEqual(await printer.status(), { coverOpen: false, paper: 'out' });
    const error = await rejection(printer.printReceipt(template));
    assert.ok(error instanceof PrinterError);
    assert.equal(error.code, 'paper_out');
    assert.equal(error.needsPerson, true);
    emulator.paper = true;
    emulator.coverOpen = true;
    assert.equal(((await rejection(printer.printTestPage())) as PrinterError).code, 'cover_open');
    emulator.coverOpen = false;
    assert.equal(emulator.bytesLost, 0);
    await printer.printTestPage();
    const receipt = await nextReceipt(emulator, 1);
    assert.match(receipt.lines.map((line) => line.text).join('\n'), /Тест принтера/);
  });
});

test('unplugged and back: the printer port reconnects and prints', async () => {
  await withPrinter(17, async (emulator, printer) => {
    await printer.status();
    await emulator.unplug();
    const error = await rejection(printer.status());
    assert.ok(error instanceof PrinterError);
    assert.equal(error.transient, true);
    await emulator.plug();
    await printer.transport.whenOpen(10_000);
    await printer.printReceipt(template);
    await nextReceipt(emulator, 1);
  });
});

test('the printer’s control API over HTTP shows the last receipt and takes its paper away', async () => {
  await withPrinter(46, async (emulator, printer) => {
    const control = await startControlServer([{ prefix: '/printer-main', routes: emulator.controlRoutes() }]);
    const call = async (method: string, route: string, body?: unknown) => {
      const response = await fetch(`${control.url}/printer-main/__sandbox${route}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };
    try {
      assert.deepEqual((await call('GET', '/receipts/last')).json, { receipt: null, text: null });
      await printer.printReceipt(template);
      await nextReceipt(emulator, 1);
      const last = await call('GET', '/receipts/last');
      assert.match(String(last.json.text), /Кава і чай/);
      assert.deepEqual((last.json.receipt as PrintedReceipt).qrCodes, [template.qr?.data]);
      assert.equal((await call('POST', '/paper', { state: 'out' })).status, 200);
      assert.equal((await printer.status()).paper, 'out');
      assert.equal((await call('POST', '/cover', { open: 'yes' })).status, 400);
      assert.equal((await call('GET', '/state')).json.receiptsPrinted, 1);
    } finally {
      await control.close();
    }
  });
});
