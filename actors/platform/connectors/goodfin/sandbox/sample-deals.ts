import { randomInt, randomUUID } from 'node:crypto';
import { innProblem, legalEntityInnOf } from '../../../../../common/inn.ts';
import { goodfinTime, type AddDealApplication } from '../protocol.ts';

// Test applications as Goodfin's sandbox makes them: plausible Russian companies, tenders and documents.

const pick = <T>(list: readonly T[]): T => list[randomInt(list.length)] as T;
const digits = (n: number): string => Array.from({ length: n }, () => String(randomInt(10))).join('');

const REGIONS = ['77', '78', '50', '66', '16', '54', '23', '52', '63', '74', '02', '61'];

/** region, tax office, record number, control digit */
function legalEntityInn(region = pick(REGIONS)): string {
  const nine = `${region}${String(randomInt(1, 52)).padStart(2, '0')}${digits(5)}`;
  return legalEntityInnOf(nine);
}

/** 1, year of registration, region, record, control digit (the 12-digit number mod 11, mod 10) */
function ogrn(region: string): string {
  const twelve = `1${String(randomInt(2, 25)).padStart(2, '0')}${region}${digits(7)}`;
  return twelve + String((BigInt(twelve) % 11n) % 10n);
}

const COMPANY_NAMES = [
  'Ромашка',
  'СтройИнвест',
  'Северный ветер',
  'ТехноПромСервис',
  'Волга-Логистик',
  'АгроСоюз',
  'Меридиан',
  'УралСтальКонструкция',
  'Балтийские дороги',
  'Энергомонтаж',
  'Сибирский подрядчик',
  'МедТехСнаб',
];
const BENEFICIARIES = [
  'ГКУ «Управление капитального строительства»',
  'МКУ «Дирекция по благоустройству»',
  'ГБУЗ «Городская клиническая больница № 15»',
  'ФГБОУ ВО «Государственный технический университет»',
  'МБОУ «Средняя общеобразовательная школа № 7»',
  'ГКУ «Дирекция автомобильных дорог»',
];
const GUARANTEE_TYPES = ['PARTICIPATION', 'CONTRACT_EXECUTION', 'ADVANCE_RETURN', 'WARRANTY_OBLIGATIONS'];
const LOAN_PURPOSES = [
  'Пополнение оборотных средств',
  'Исполнение государственного контракта',
  'Приобретение оборудования',
  'Рефинансирование кредита',
];
const OPTIONAL_DOCUMENTS = [
  { documentType: 'PASSPORT', fileName: 'Паспорт руководителя.pdf' },
  { documentType: 'TAX_RETURN', fileName: 'Налоговая декларация.pdf' },
  { documentType: 'DECISION_OF_APPOINTMENT', fileName: 'Решение о назначении директора.pdf' },
];

/** A document listed in a deal, and the (ASCII) title of the PDF the sandbox serves for it. */
interface GeneratedDocument {
  documentId: string;
  documentType: string;
  fileName: string;
}

/** An AddDealApplication payload as Goodfin would push it; `withoutInn` drops the client INN (the bank's checks fail). */
export function generateDeal(productType: string, withoutInn: boolean, now: number): AddDealApplication {
  const region = pick(REGIONS);
  const inn = legalEntityInn(region);
  const client = {
    ...(withoutInn ? {} : { inn }),
    name: `${pick(['ООО', 'ООО', 'АО'])} «${pick(COMPANY_NAMES)}»`,
    ogrn: ogrn(region),
    contactPhone: `+79${digits(9)}`,
  };
  const year = new Date(now).getUTCFullYear();
  const requestData: AddDealApplication['requestData'] =
    productType === 'Loan'
      ? {
          amount: randomInt(500, 15_001) * 1_000,
          currency: 'RUB',
          term: pick([6, 12, 18, 24, 36, 48, 60]),
          purpose: pick(LOAN_PURPOSES),
          client,
        }
      : {
          amount: randomInt(150, 20_001) * 1_000,
          currency: 'RUB',
          term: randomInt(3, 37),
          guaranteeType: pick(GUARANTEE_TYPES),
          federalLaw: '44-FZ',
          // a 44-FZ notice number: 19 digits
          purchaseNumber: `03${digits(9)}${String(year % 100).padStart(2, '0')}${digits(6)}`,
          beneficiary: { inn: legalEntityInn(region), name: pick(BENEFICIARIES) },
          client,
        };
  const documents: GeneratedDocument[] = [
    { documentId: `doc-${randomUUID()}`, documentType: 'CHARTER', fileName: 'Устав.pdf' },
    { documentId: `doc-${randomUUID()}`, documentType: 'FINANCIAL_STATEMENT', fileName: `Бухгалтерская отчетность за ${year - 1} год.pdf` },
    ...OPTIONAL_DOCUMENTS.filter(() => randomInt(2) === 0).map((d) => ({ documentId: `doc-${randomUUID()}`, ...d })),
  ];
  return {
    dealApplicationId: randomUUID(),
    createApplicationDateTime: goodfinTime(now - randomInt(1, 30) * 60_000),
    productType,
    requestData,
    documents,
  };
}

/**
 * The same deal after the client's fix, as Goodfin resends it once the bank
 * returned it for rework: a valid client INN (when it had none, or a wrong
 * one) and the charter uploaded again (a new document id); the rest as it was.
 */
export function correctDeal(deal: AddDealApplication): AddDealApplication {
  const client = deal.requestData.client ?? {};
  const inn = client.inn && !innProblem(client.inn) ? client.inn : legalEntityInn();
  const [charter, ...others] = deal.documents;
  return {
    ...deal,
    requestData: { ...deal.requestData, client: { ...client, inn } },
    documents: [
      { documentId: `doc-${randomUUID()}`, documentType: charter?.documentType ?? 'CHARTER', fileName: 'Устав (новая редакция).pdf' },
      ...others,
    ],
  };
}
