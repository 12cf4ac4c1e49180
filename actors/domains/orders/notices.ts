import { formatMoney } from '../../../common/money.ts';
import type { NoticeRequest } from '../../../machines/order.ts';

/** The words of every message a customer gets (Ukrainian: the shop's customers read it). */

/** The notice's amount in its order's currency (notices stored before orders had other currencies are in hryvnias). */
function money(minor: unknown, currency: unknown): string {
  return formatMoney(typeof minor === 'number' && minor >= 0 ? minor : 0, typeof currency === 'string' ? currency : 'UAH');
}

export interface RenderedNotice {
  subject: string;
  text: string;
}

export function renderNotice(
  request: NoticeRequest,
  links: { order: string; survey: string | null; payment: string | null },
): RenderedNotice {
  const id = request.orderId;
  const d = request.data;
  switch (request.template) {
    case 'order_rejected': {
      const reasons = Array.isArray(d.errors)
        ? (d.errors as Array<{ message?: string }>).map((e) => `• ${e.message ?? ''}`).join('\n')
        : '';
      return {
        subject: `Замовлення ${id} не прийнято`,
        text: `На жаль, ми не можемо прийняти замовлення ${id}:\n${reasons}\n\nВиправте, будь ласка, і оформіть його ще раз.`,
      };
    }
    case 'payment_failed':
      return {
        subject: `Оплата замовлення ${id} не пройшла`,
        text: `Оплата замовлення ${id} не пройшла (спроба ${String(d.attempt)} з ${String(d.of)}): ${String(d.reason ?? '')}.\nМи спробуємо ще раз і надішлемо нове посилання.${links.payment ? `\n${links.payment}` : ''}`,
      };
    case 'order_blocked':
      return {
        subject: `Замовлення ${id} призупинено`,
        text: `Після ${String(d.attempts)} невдалих спроб оплати замовлення ${id} призупинено. Наш менеджер зв'яжеться з вами.`,
      };
    case 'payment_received':
      return {
        subject: `Оплату замовлення ${id} отримано`,
        text: `Дякуємо! Оплату ${money(d.amount, d.currency)} отримано. Рахунок-фактура — у вкладенні.`,
      };
    case 'order_confirmed':
      return {
        subject: `Замовлення ${id} підтверджено`,
        text: `Замовлення ${id} підтверджено${d.invoice ? ` (рахунок-фактура № ${String(d.invoice).padStart(6, '0')})` : ''}. Сума: ${money(d.total, d.currency)}.${d.promisedBy ? `\nОрієнтовна доставка до ${String(d.promisedBy).slice(0, 10)}.` : ''}\nСтатус: ${links.order}`,
      };
    case 'order_shipped':
      return {
        subject: `Замовлення ${id} відправлено`,
        text: `Замовлення ${id} передано Новій Пошті.${d.waybill ? `\nНомер накладної: ${String(d.waybill)}\nВідстежити: https://novaposhta.ua/tracking/?cargo_number=${String(d.waybill)}` : ''}`,
      };
    case 'order_cancelled':
      return {
        subject: `Замовлення ${id} скасовано`,
        text: `Замовлення ${id} скасовано: ${String(d.reason ?? '')}.${d.refund ? '\nКошти буде повернено на вашу картку.' : ''}`,
      };
    case 'survey':
      return {
        subject: `Як вам замовлення ${id}?`,
        text: `Замовлення ${id} доставлено. Оцініть, будь ласка, покупку — це займе хвилину:\n${links.survey ?? links.order}`,
      };
  }
}
