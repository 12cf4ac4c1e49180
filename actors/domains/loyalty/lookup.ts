import type { LoyaltyAnswer } from '../../../machines/pos-sale-rules.ts';
import type { Logger } from 'winston';
import type { LoyaltyCustomerDoc } from '../../../persistence/loyalty.ts';
import { JOWI_ERROR_CODES, type CustomerQuery } from '../../platform/connectors/jowi/client.ts';
import { normalisePhone, type JowiCustomer } from '../../platform/connectors/jowi/protocol.ts';
import { isConnectorError, KIT_ERROR_CODES } from '../../platform/connectors/kit/errors.ts';
import type { JowiAccess } from './access.ts';
import type { CustomerCache } from './customer-cache.ts';

/**
 * The loyalty look-up a sale makes: it answers within its bounded time whatever JOWi does.
 *
 * The failover rule (seed 004): only a live answer from JOWi gives a discount or lets bonuses pay. When JOWi
 * is slow, down or erroring, the answer is `offline`: no discount, no bonus, a warning for the cashier — and,
 * when the local cache (live answers and webhooks) knows the customer, that customer marked `source: 'cache'`,
 * so the sale can still name who earns its accrual, delivered later. A cached discount is never applied: it
 * may be stale, and the sale cannot be confirmed with JOWi.
 */

export type LookupStatus = 'applied' | 'not_found' | 'refused' | 'offline';

/** Why, in one word, for the POS and the logs. */
export type LookupReason =
  'found' | 'not_found' | 'card_blocked' | 'invalid_query' | 'timeout' | 'unavailable' | 'rejected' | 'not_configured';

export interface LoyaltyCustomer {
  id: string;
  name: string;
  level: string | null;
  discountPercent: number;
  /** tiyin */
  bonusBalance: number;
  phone: string | null;
  card: string | null;
}

export interface LookupResult {
  status: LookupStatus;
  reason: LookupReason;
  customer: LoyaltyCustomer | null;
  source: 'live' | 'cache';
  /** the discount the sale may give: the customer's with a live answer, else 0 */
  discountPercent: number;
  /** tiyin bonuses may pay (before the sale's own share limit): the live balance, else 0 */
  bonusAvailable: number;
  /** shown by the POS; null when all is well */
  warning: string | null;
  /** when the cached customer was true at JOWi (source cache only) */
  cachedAt: string | null;
  elapsedMs: number;
}

export type LookupQuery = { phone: string } | { card: string };

const WARNINGS = {
  offline: 'JOWi Club недоступен: продажа без скидки и без списания бонусов; бонусы начислятся позже',
  offlineUnknown: 'JOWi Club недоступен: продажа без скидки; клиента не удалось определить',
  notFound: 'Клиент не найден в JOWi Club',
  blocked: 'Карта клиента заблокирована в JOWi Club: продажа без скидки',
  invalid: 'Неверный номер телефона или карты',
  notConfigured: 'JOWi Club не настроен: продажа без скидки',
} as const;

/** How much longer than its budget the look-up may take to read the cache once JOWi has not answered. */
const CACHE_GRACE_MS = 150;

type LiveOutcome = { kind: 'answer'; customer: JowiCustomer | null } | { kind: 'error'; error: unknown } | { kind: 'deadline' };

export class LoyaltyLookup {
  constructor(
    private readonly deps: {
      access: JowiAccess;
      cache: CustomerCache;
      logger: Logger;
      now: () => number;
    },
  ) {}

  /** Finds the customer by phone or card within `timeoutMs` (the `lookupTimeoutMs` setting by default). */
  async find(query: LookupQuery, options: { timeoutMs?: number } = {}): Promise<LookupResult> {
    const started = Date.now();
    const settings = this.deps.access.settings();
    const budget = options.timeoutMs ?? settings.lookupTimeoutMs;
    const elapsed = () => Date.now() - started;

    const normalised = normaliseQuery(query);
    if (!normalised) return { ...empty('not_found', 'invalid_query', 'live'), warning: WARNINGS.invalid, elapsedMs: elapsed() };

    // the cache is read beside the live call, so it is at hand the moment the budget runs out
    const cached = this.deps.cache.find(normalised).catch(() => null);
    const controller = new AbortController();
    const outcome = await this.live(normalised, budget, controller);
    controller.abort();

    if (outcome.kind === 'answer') {
      if (!outcome.customer) return { ...empty('not_found', 'not_found', 'live'), warning: WARNINGS.notFound, elapsedMs: elapsed() };
      const customer = outcome.customer;
      this.refreshCache(customer);
      if (customer.blocked) return { ...empty('refused', 'card_blocked', 'live'), warning: WARNINGS.blocked, elapsedMs: elapsed() };
      return {
        status: 'applied',
        reason: 'found',
        customer: viewOf(customer),
        source: 'live',
        discountPercent: customer.discountPercent,
        bonusAvailable: customer.bonusBalance,
        warning: null,
        cachedAt: null,
        elapsedMs: elapsed(),
      };
    }

    if (outcome.kind === 'error' && isConnectorError(outcome.error)) {
      const { code } = outcome.error;
      if (code === JOWI_ERROR_CODES.cardBlocked) {
        void this.deps.cache.block(normalised, new Date(this.deps.now())).catch(() => undefined);
        return { ...empty('refused', 'card_blocked', 'live'), warning: WARNINGS.blocked, elapsedMs: elapsed() };
      }
      if (code === JOWI_ERROR_CODES.badParameters)
        return { ...empty('not_found', 'invalid_query', 'live'), warning: WARNINGS.invalid, elapsedMs: elapsed() };
    }

    const reason = reasonOf(outcome);
    if (reason !== 'timeout')
      this.deps.logger.warn('jowi look-up failed: the sale goes on without the discount', {
        reason,
        error: outcome.kind === 'error' ? String(outcome.error) : null,
      });
    const remembered = await withinMs(cached, Math.max(0, budget + CACHE_GRACE_MS - elapsed()));
    const usable = remembered && !remembered.blocked && this.fresh(remembered, settings.cacheMaxAgeHours) ? remembered : null;
    return {
      status: 'offline',
      reason,
      customer: usable ? viewOfCached(usable) : null,
      source: 'cache',
      discountPercent: 0,
      bonusAvailable: 0,
      warning: reason === 'not_configured' ? WARNINGS.notConfigured : usable ? WARNINGS.offline : WARNINGS.offlineUnknown,
      cachedAt: usable ? usable.sourceAt.toISOString() : null,
      elapsedMs: elapsed(),
    };
  }

  /** JOWi's answer, or its failure, or the deadline: whichever comes first (a hard bound on top of the abort). */
  private async live(query: CustomerQuery, budget: number, controller: AbortController): Promise<LiveOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<LiveOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'deadline' }), budget);
    });
    const call = (async (): Promise<LiveOutcome> => {
      const client = this.deps.access.client();
      const customer = await client.findCustomer(query, { signal: controller.signal, timeoutMs: budget });
      return { kind: 'answer', customer };
    })().catch((error: unknown): LiveOutcome => ({ kind: 'error', error }));
    try {
      return await Promise.race([call, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private refreshCache(customer: JowiCustomer): void {
    void this.deps.cache.remember(customer, new Date(this.deps.now()), 'live').catch((error: unknown) => {
      this.deps.logger.warn('loyalty cache not refreshed', { customer: customer.id, error: String(error) });
    });
  }

  private fresh(doc: LoyaltyCustomerDoc, maxAgeHours: number): boolean {
    return this.deps.now() - doc.sourceAt.getTime() <= maxAgeHours * 3_600_000;
  }
}

function normaliseQuery(query: LookupQuery): CustomerQuery | null {
  if ('phone' in query) {
    const phone = normalisePhone(query.phone);
    return phone ? { phone } : null;
  }
  const card = query.card.trim();
  return card.length > 0 && card.length <= 128 ? { card } : null;
}

function reasonOf(outcome: LiveOutcome): LookupReason {
  if (outcome.kind === 'deadline') return 'timeout';
  if (outcome.kind !== 'error' || !isConnectorError(outcome.error)) return 'unavailable';
  const { code } = outcome.error;
  if (code === KIT_ERROR_CODES.timeout || code === KIT_ERROR_CODES.cancelled) return 'timeout';
  if (code === KIT_ERROR_CODES.notConfigured || code === KIT_ERROR_CODES.disabled) return 'not_configured';
  if (outcome.error.retryable || code === KIT_ERROR_CODES.badResponse) return 'unavailable';
  // error 1 (our credentials refused) and other refusals: a problem for an operator, not for the cashier
  return 'rejected';
}

function empty(status: LookupStatus, reason: LookupReason, source: 'live' | 'cache'): Omit<LookupResult, 'warning' | 'elapsedMs'> {
  return { status, reason, customer: null, source, discountPercent: 0, bonusAvailable: 0, cachedAt: null };
}

function viewOf(customer: JowiCustomer): LoyaltyCustomer {
  return {
    id: customer.id,
    name: customer.name,
    level: customer.level,
    discountPercent: customer.discountPercent,
    bonusBalance: customer.bonusBalance,
    phone: customer.phone,
    card: customer.card,
  };
}

function viewOfCached(doc: LoyaltyCustomerDoc): LoyaltyCustomer {
  return {
    id: doc._id,
    name: doc.name,
    level: doc.level,
    discountPercent: doc.discountPercent,
    bonusBalance: doc.bonusBalance,
    phone: doc.phone,
    card: doc.card,
  };
}

/** The promise's value if it settles within `ms`, else null. */
async function withinMs<T>(promise: Promise<T | null>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The look-up as a sale keeps it (its input, machines/pos-sale-rules.ts): the sale prices itself from this —
 * a discount and bonuses only with a live answer (priceSale).
 */
export function saleLoyaltyOf(result: LookupResult): LoyaltyAnswer {
  const customer = result.customer && {
    id: result.customer.id,
    name: result.customer.name,
    level: result.customer.level,
    // what the sale may use: the customer's own figures with a live answer, nothing from the cache
    discountPercent: result.discountPercent,
    bonusBalance: result.bonusAvailable,
  };
  return { status: result.status, customer, source: result.source, warning: result.warning };
}
