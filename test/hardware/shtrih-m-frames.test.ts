import assert from 'node:assert/strict';
import { test } from 'node:test';
import iconv from 'iconv-lite';
import { encodeFrame, lrc } from '../../hardware/shtrih-m/frame.ts';
import { requests } from '../../hardware/shtrih-m/commands.ts';
import { password } from '../../hardware/shtrih-m/bytes.ts';
import { hex, withRegister } from './support.ts';

/**
 * Every command's request frame, byte for byte, as the register receives it
 * over a real PTY. Expected frames are written out from the layouts in the
 * protocol note (§6.2, §6.2a), not from our encoder; the note's three
 * constructed frames are used as they are.
 */

const NOTE_SALE = hex(`02 3C 80 01 00 00 00 E8 03 00 00 00 E8 03 00 00 00 01 00 00 00 00 54 65 73 74 ${'00'.repeat(36)} 8A`);
const NOTE_CLOSE = hex(`02 47 85 01 00 00 00 E8 03 00 00 00 ${'00'.repeat(61)} 28`);
const NOTE_PRINT = hex(`02 2E 17 01 00 00 00 02 CF F0 E8 E2 E5 F2 ${'00'.repeat(34)} 18`);

/** STX LEN CMD params LRC, built by hand from a layout. */
function frame(command: number, params: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([params.length + 1, command]), params]);
  return Buffer.concat([Buffer.from([0x02]), body, Buffer.from([lrc(body)])]);
}
const pad = (text: string, width: number) => Buffer.concat([iconv.encode(text, 'win1251'), Buffer.alloc(width)]).subarray(0, width);
const OPERATOR = hex('01 00 00 00');
const ADMIN = hex('1E 00 00 00');

test('the protocol note’s three constructed frames come out of the encoder unchanged', () => {
  assert.deepEqual(
    encodeFrame(0x80, Buffer.concat([password(1), requests.line({ name: 'Test', qty: 1, price: 1000, department: 1 })])),
    NOTE_SALE,
  );
  assert.deepEqual(encodeFrame(0x85, Buffer.concat([password(1), requests.closeReceipt({ payments: { cash: 1000 } })])), NOTE_CLOSE);
  assert.deepEqual(encodeFrame(0x17, Buffer.concat([password(1), requests.printLine('Привет', 'receipt')])), NOTE_PRINT);
});

test('every command reaches the register byte for byte as its layout says', async () => {
  await withRegister(async ({ emulator, register }) => {
    const sent: { what: string; expected: Buffer }[] = [];
    const expect = async (what: string, expected: Buffer, call: () => Promise<unknown>) => {
      await call();
      sent.push({ what, expected });
    };

    await expect('0x10 short status', frame(0x10, OPERATOR), () => register.shortStatus());
    await expect('0x11 full status', frame(0x11, OPERATOR), () => register.fullStatus());
    await expect('0xE0 open shift', frame(0xe0, OPERATOR), () => register.openShift());
    await expect('0x40 X-report, administrator password', frame(0x40, ADMIN), () => register.xReport());
    await expect('0x8D open a sale receipt', frame(0x8d, Buffer.concat([OPERATOR, hex('00')])), () => register.openReceipt('sale'));
    await expect('0x80 sale (the note’s fixture)', NOTE_SALE, () => register.sale({ name: 'Test', qty: 1, price: 1000, department: 1 }));
    await expect(
      '0x80 sale: qty 2.5 ×1000, price 250.00, dept 3, tax group 1, Cyrillic name',
      frame(0x80, Buffer.concat([OPERATOR, hex('C4 09 00 00 00'), hex('A8 61 00 00 00'), hex('03'), hex('01 00 00 00'), pad('Чашка', 40)])),
      () => register.sale({ name: 'Чашка', qty: 2.5, price: 25_000, department: 3, taxGroup: 1 }),
    );
    await expect('0x17 print line (the note’s fixture)', NOTE_PRINT, () => register.printLine('Привет'));
    await expect(
      '0x85 close: cash 700.00, card 0.10, discount 0, no tax, text',
      frame(
        0x85,
        Buffer.concat([
          OPERATOR,
          hex('70 11 01 00 00'),
          hex('0A 00 00 00 00'),
          Buffer.alloc(10),
          hex('00 00'),
          hex('00 00 00 00'),
          pad('Дякуємо', 40),
        ]),
      ),
      () => register.closeReceipt({ payments: { cash: 70_000, card: 10 }, text: 'Дякуємо' }),
    );
    await expect('0x25 partial cut', frame(0x25, Buffer.concat([OPERATOR, hex('01')])), () => register.cut('partial'));
    await expect('0x25 full cut', frame(0x25, Buffer.concat([OPERATOR, hex('00')])), () => register.cut('full'));
    await expect('0x8D open a return receipt', frame(0x8d, Buffer.concat([OPERATOR, hex('02')])), () => register.openReceipt('return'));
    await expect(
      '0x82 sale return',
      frame(
        0x82,
        Buffer.concat([OPERATOR, hex('E8 03 00 00 00'), hex('10 27 00 00 00'), hex('01'), hex('00 00 00 00'), pad('Повернення', 40)]),
      ),
      () => register.saleReturn({ name: 'Повернення', qty: 1, price: 10_000 }),
    );
    await expect('0x88 cancel receipt', frame(0x88, OPERATOR), () => register.cancelReceipt());
    await expect('0xB0 continue printing', frame(0xb0, OPERATOR), () => register.continuePrinting());
    await expect('0x41 Z-report, administrator password', frame(0x41, ADMIN), () => register.zReport());

    const received = emulator.framesReceived.slice(-sent.length);
    assert.equal(received.length, sent.length);
    sent.forEach(({ what, expected }, i) => assert.equal(received[i]?.toString('hex'), expected.toString('hex'), what));
    assert.equal(NOTE_CLOSE.length, 0x47 + 3, 'LEN counts CMD and parameters only');
  });
});

test('a close with a discount sends it as a signed two-byte number', () => {
  const params = requests.closeReceipt({ payments: { cash: 100 }, discountBasisPoints: -250 });
  assert.deepEqual(params.subarray(20, 22), hex('06 FF'));
});

test('values the register cannot carry are refused before anything is sent', async () => {
  await withRegister(async ({ emulator, register }) => {
    await register.openShift();
    await register.openReceipt('sale');
    const before = emulator.commandsReceived;
    for (const line of [
      { name: 'x', qty: 1, price: 10.5 },
      { name: 'x', qty: 0, price: 100 },
      { name: 'x', qty: 1.0001, price: 100 },
      { name: 'x', qty: 1, price: -1 },
      { name: 'x', qty: 1, price: 100, department: 17 },
    ]) {
      await assert.rejects(register.sale(line), (error: Error & { code?: string }) => error.code === 'invalid_input');
    }
    assert.equal(emulator.commandsReceived, before);
  });
});
