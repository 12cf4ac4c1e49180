import { DEFAULT_CODE_PAGE, type CodePage } from './code-pages.ts';
import { escpos, type QrErrorLevel } from './commands.ts';

/**
 * A receipt (or a packing slip) from a template to printer bytes: the shop's
 * header, the lines, the totals, the payment, a footer and an optional QR
 * code (a payment or tracking link), then a cut. Money in kopecks, printed
 * as `250.00`. Long names wrap; the amount column stays right-aligned.
 */

export interface ReceiptTemplateLine {
  name: string;
  qty: number;
  /** unit price, kopecks */
  price: number;
  /** default qty × price */
  amount?: number;
}

export interface ReceiptTemplate {
  shop: { name: string; details?: string[] };
  /** under the header, e.g. `Чек № 15` or `Пакувальний лист SHOP-1001` */
  title?: string;
  lines: ReceiptTemplateLine[];
  /** kopecks; default the sum of the lines */
  total?: number;
  /** extra total rows, e.g. `ПДВ 20%` */
  totalRows?: { label: string; amount: number }[];
  payment?: { method: string; amount: number; change?: number };
  footer?: string[];
  qr?: { data: string; caption?: string; size?: number; errorLevel?: QrErrorLevel };
  /** labels, so a receipt can be printed in another language */
  labels?: { total?: string; change?: string; currency?: string };
}

export interface LayoutOptions {
  codePage?: CodePage;
  /** characters per line at normal size: 48 (80 mm, font A), 32 (58 mm) */
  width?: number;
  cut?: 'full' | 'partial' | 'none';
  /** pulse the cash drawer after printing */
  openDrawer?: boolean;
}

export function formatMoney(kopecks: number): string {
  const sign = kopecks < 0 ? '-' : '';
  const abs = Math.abs(kopecks);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

function formatQty(qty: number): string {
  return Number.isInteger(qty) ? String(qty) : qty.toFixed(3).replace(/0+$/, '');
}

/** `left ……… right` in `width` characters; a left part too long is cut. */
export function twoColumns(left: string, right: string, width: number): string {
  const room = Math.max(0, width - right.length - 1);
  const cut = left.length > room ? left.slice(0, room) : left;
  return `${cut}${' '.repeat(width - cut.length - right.length)}${right}`;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let rest = text.trim();
  while (rest.length > width) {
    const space = rest.lastIndexOf(' ', width);
    const at = space > 0 ? space : width;
    out.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
  }
  if (rest) out.push(rest);
  return out;
}

export function renderReceipt(template: ReceiptTemplate, options: LayoutOptions = {}): Buffer {
  const codePage = options.codePage ?? DEFAULT_CODE_PAGE;
  const width = options.width ?? 48;
  const labels = { total: 'СУМА', change: 'Решта', currency: 'грн', ...template.labels };
  const parts: Buffer[] = [escpos.initialize(), escpos.codePage(codePage)];
  const line = (text: string) => parts.push(escpos.text(text, codePage), escpos.newline());
  const rule = () => line('-'.repeat(width));

  parts.push(escpos.align('center'), escpos.bold(true), escpos.size(2, 2));
  for (const row of wrap(template.shop.name, Math.floor(width / 2))) line(row);
  parts.push(escpos.size(1, 1), escpos.bold(false));
  for (const row of template.shop.details ?? []) line(row);
  if (template.title) line(template.title);
  parts.push(escpos.align('left'));
  rule();

  for (const item of template.lines) {
    const amount = item.amount ?? Math.round(item.qty * item.price);
    for (const row of wrap(item.name, width)) line(row);
    line(twoColumns(`  ${formatQty(item.qty)} x ${formatMoney(item.price)}`, formatMoney(amount), width));
  }
  rule();

  const total = template.total ?? template.lines.reduce((sum, item) => sum + (item.amount ?? Math.round(item.qty * item.price)), 0);
  parts.push(escpos.bold(true), escpos.size(1, 2));
  line(twoColumns(labels.total, `${formatMoney(total)} ${labels.currency}`, width));
  parts.push(escpos.size(1, 1), escpos.bold(false));
  for (const row of template.totalRows ?? []) line(twoColumns(row.label, formatMoney(row.amount), width));
  if (template.payment) {
    line(twoColumns(template.payment.method, formatMoney(template.payment.amount), width));
    if (template.payment.change) line(twoColumns(labels.change, formatMoney(template.payment.change), width));
  }

  if (template.qr) {
    parts.push(escpos.align('center'), escpos.newline());
    parts.push(escpos.qr(template.qr.data, { size: template.qr.size ?? 6, errorLevel: template.qr.errorLevel ?? 'M' }), escpos.newline());
    if (template.qr.caption) line(template.qr.caption);
    parts.push(escpos.align('left'));
  }
  if (template.footer?.length) {
    parts.push(escpos.align('center'));
    for (const row of template.footer) for (const wrapped of wrap(row, width)) line(wrapped);
    parts.push(escpos.align('left'));
  }
  if ((options.cut ?? 'partial') !== 'none') parts.push(escpos.feed(1), escpos.cut(options.cut === 'full' ? 'full' : 'partial'));
  if (options.openDrawer) parts.push(escpos.drawerPulse(2));
  return Buffer.concat(parts);
}
