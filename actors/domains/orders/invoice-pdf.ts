import { createRequire } from 'node:module';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import { invoiceLabel, type InvoiceDoc } from '../../../persistence/commerce.ts';

/**
 * The invoice (the "nota fiscal" of seed 001) as a PDF. Rendered from the
 * stored invoice every time it is asked for, so the document and the record
 * cannot disagree. DejaVu Sans comes from npm, so Cyrillic renders on any
 * machine without system fonts.
 */

const require = createRequire(import.meta.url);
const FONT_DIR = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');

export interface Seller {
  name: string;
  details: string;
}

const CURRENCY_SIGNS: Readonly<Record<string, string>> = { UAH: '₴', UZS: 'сум' };
/** How the invoice names each way of paying. */
const METHOD_NAMES: Readonly<Record<string, string>> = { monobank: 'Monobank', liqpay: 'LiqPay', payme: 'Payme', click: 'Click' };

function moneyIn(currency: string): (minor: number) => string {
  const sign = CURRENCY_SIGNS[currency] ?? currency;
  return (minor) => {
    const minus = minor < 0 ? '-' : '';
    const abs = Math.abs(minor);
    return `${minus}${Math.floor(abs / 100)
      .toLocaleString('uk-UA')
      .replace(/\s/g, ' ')},${String(abs % 100).padStart(2, '0')} ${sign}`;
  };
}

function date(value: Date): string {
  return value.toISOString().slice(0, 10).split('-').reverse().join('.');
}

export function renderInvoicePdf(invoice: InvoiceDoc, seller: Seller): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({
      size: 'A4',
      margin: 50,
      info: { Title: `Рахунок-фактура ${invoiceLabel(invoice.number)}`, Author: seller.name, CreationDate: invoice.issuedAt },
    });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.registerFont('regular', path.join(FONT_DIR, 'DejaVuSans.ttf'));
    doc.registerFont('bold', path.join(FONT_DIR, 'DejaVuSans-Bold.ttf'));

    doc
      .font('bold')
      .fontSize(18)
      .text(`Рахунок-фактура ${invoiceLabel(invoice.number)}`);
    doc
      .font('regular')
      .fontSize(10)
      .text(`від ${date(invoice.issuedAt)} · замовлення ${invoice._id}`);
    doc.moveDown();
    doc.font('bold').text('Продавець');
    doc.font('regular').text(seller.name).text(seller.details);
    doc.moveDown(0.5);
    doc.font('bold').text('Покупець');
    doc.font('regular').text([invoice.customer.name, invoice.customer.phone, invoice.customer.email].filter(Boolean).join(' · '));
    const delivery = invoice.delivery;
    const where = delivery.address
      ? `${delivery.address.street}, ${delivery.address.house}${delivery.address.flat ? `, кв. ${delivery.address.flat}` : ''}`
      : (delivery.warehouseName ?? '');
    doc.text(`Доставка: Нова Пошта, ${[delivery.cityName, where].filter(Boolean).join(', ')}`);
    doc.moveDown();

    const money = moneyIn(invoice.pricing.currency);
    const columns = [50, 120, 330, 380, 460];
    const row = (cells: string[], font: 'regular' | 'bold') => {
      const y = doc.y;
      doc.font(font);
      cells.forEach((cell, i) =>
        doc.text(cell, columns[i] ?? 50, y, { width: (columns[i + 1] ?? 545) - (columns[i] ?? 50) - 6, align: i >= 2 ? 'right' : 'left' }),
      );
      doc.moveDown(0.3);
    };
    row(['Код', 'Найменування', 'К-сть', 'Ціна', 'Сума'], 'bold');
    for (const line of invoice.lines)
      row([line.sku, line.name, String(line.qty), money(line.unitPrice), money(line.qty * line.unitPrice)], 'regular');
    doc.moveDown();
    const p = invoice.pricing;
    const totals: Array<[string, number]> = [
      ['Разом за товари', p.subtotal],
      ['Доставка', p.deliveryFee],
      ...p.fees.map((f): [string, number] => [f.name, f.amount]),
    ];
    for (const [label, amount] of totals) row(['', label, '', '', money(amount)], 'regular');
    row(['', 'До сплати', '', '', money(p.total)], 'bold');
    row(['', `у т. ч. ПДВ ${p.vatRatePercent} %`, '', '', money(p.vat)], 'regular');
    doc.moveDown();
    const r = invoice.receipt;
    const paid =
      r.method === 'cod'
        ? 'Оплата при отриманні (накладений платіж).'
        : `Оплачено ${money(r.amount)} (${METHOD_NAMES[r.method] ?? r.method}, платіж ${r.paymentId ?? '—'}${r.paidAt ? `, ${date(r.paidAt)}` : ''}).`;
    doc.font('regular').text(paid, 50);
    doc.end();
  });
}
