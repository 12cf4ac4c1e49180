/**
 * Goodfin application statuses as the bank names them: shared by the
 * application machine and the Goodfin connector, whose settings may rename
 * them and replace the review list.
 */

/** Labels of the statuses the machine announces itself (configuration may rename them). */
export const FIXED_STATUS_LABELS: Record<string, string> = {
  RECEIVED: 'Получена банком',
  REWORK: 'Возвращена на доработку',
  READY_FOR_SIGNING: 'Готова к подписанию',
  OFFER_ACCEPTED: 'Предложение принято',
  OFFER_PAID: 'Предложение оплачено',
  ISSUED: 'Продукт выдан',
  REJECTED: 'Отклонена банком',
  WITHDRAWN: 'Отозвана клиентом',
};

/** The review statuses bank staff set (seed 003 §5); the list is configuration, this is its default. */
export const DEFAULT_REVIEW_STATUSES: Array<{ code: string; name: string }> = [
  { code: 'UNDER_REVIEW', name: 'На рассмотрении' },
  { code: 'CLIENT_INFO_REQUESTED', name: 'Направлен запрос клиенту' },
  { code: 'OFFER_PREPARING', name: 'Формируется предложение' },
  { code: 'OFFER_DOCUMENTS', name: 'Формирование документов предложения' },
  { code: 'DOCUMENTS_CHECK', name: 'Проверка документов' },
  { code: 'DOCUMENTS_RECHECK', name: 'Повторная проверка документов' },
  { code: 'PROJECT_APPROVAL', name: 'Проект на согласовании' },
  { code: 'CLIENT_REWORK_REQUEST', name: 'Запрос от клиента на доработку' },
  { code: 'OFFERS_SEARCH', name: 'Поиск предложений' },
  { code: 'PRELIMINARY_OFFER_ACCEPTED', name: 'Предварительное предложение принято' },
  { code: 'APPROVED', name: 'Одобрена' },
];
