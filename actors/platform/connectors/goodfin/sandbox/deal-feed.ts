import type { SandboxRoute } from '../../kit/sandbox.ts';
import { addDealApplicationSchema, generateDealsRequestSchema, GOODFIN_PATHS, PRODUCT_TYPES, type GeneratedDeals } from '../protocol.ts';
import { samplePdf, type SandboxDocuments } from './documents.ts';
import { refused, type SandboxTokens } from './oauth.ts';
import type { GoodfinPusher } from './pusher.ts';
import { correctDeal, generateDeal } from './sample-deals.ts';
import { serviceNameField, type ServiceRegistry } from './services.ts';
import { parseBody } from './validation.ts';

export interface GenerateDealsOptions {
  /** the preregistered sandbox service unless given */
  serviceSystemName?: string;
  /** 1..50, 3 by default */
  count?: number;
  /** BankGuarantee and Loan alternate unless given */
  productType?: (typeof PRODUCT_TYPES)[number];
  /** the first deal has no client INN, so the bank's checks fail */
  invalid?: boolean;
}

export interface CancelDealOptions {
  serviceSystemName?: string;
  reason?: string;
  initiator?: 'CLIENT' | 'SYSTEM';
}

export const generateDealsBodySchema = generateDealsRequestSchema.extend(serviceNameField);

/**
 * The applications Goodfin sends a service: test deals (AddDealApplication,
 * their documents ready to download) and withdrawals (CancelDealApplication),
 * pushed to the endpoint the service declared.
 */
export class DealFeed {
  constructor(
    private readonly services: ServiceRegistry,
    private readonly tokens: SandboxTokens,
    private readonly documents: SandboxDocuments,
    private readonly pusher: GoodfinPusher,
  ) {}

  generate(options: GenerateDealsOptions = {}): GeneratedDeals {
    const { serviceSystemName, count, productType, invalid: withoutInn } = generateDealsBodySchema.parse(options);
    const service = this.services.named(serviceSystemName);
    this.services.endpointOf(service);
    const now = Date.now();
    const deals: GeneratedDeals['deals'] = [];
    for (let i = 0; i < count; i += 1) {
      const type = productType ?? PRODUCT_TYPES[i % PRODUCT_TYPES.length] ?? 'BankGuarantee';
      const deal = generateDeal(type, withoutInn && i === 0, now);
      // every listed document can be downloaded
      for (const document of deal.documents)
        this.documents.add(document.documentId, samplePdf(`${document.documentType} - deal ${deal.dealApplicationId}`));
      const message = this.pusher.push(service.serviceSystemName, 'AddDealApplication', deal, true);
      deals.push({ dealApplicationId: deal.dealApplicationId, msgId: message.msgId, productType: type });
    }
    return { success: true, deals };
  }

  /** the client withdraws (or Goodfin itself, with initiator SYSTEM) */
  cancel(dealApplicationId: string, options: CancelDealOptions = {}): { msgId: string } {
    const service = this.services.named(options.serviceSystemName);
    this.services.endpointOf(service);
    const payload = { dealApplicationId, reason: options.reason ?? 'Клиент отозвал заявку', initiator: options.initiator ?? 'CLIENT' };
    return { msgId: this.pusher.push(service.serviceSystemName, 'CancelDealApplication', payload, true).msgId };
  }

  /**
   * Goodfin resends a deal the client corrected (same dealApplicationId, a
   * new msgId; our assumption of Goodfin's behaviour after a REWORK status);
   * null when no AddDealApplication of that deal was pushed to the service.
   */
  resubmit(dealApplicationId: string, options: { serviceSystemName?: string } = {}): { msgId: string } | null {
    const service = this.services.named(options.serviceSystemName);
    this.services.endpointOf(service);
    const last = this.pusher
      .pushed(service.serviceSystemName)
      .filter((m) => m.payloadType === 'AddDealApplication' && m.dealApplicationId === dealApplicationId)
      .at(-1);
    if (!last) return null;
    const deal = correctDeal(addDealApplicationSchema.parse(last.envelope.payload));
    for (const document of deal.documents)
      this.documents.add(document.documentId, samplePdf(`${document.documentType} - deal ${deal.dealApplicationId} (corrected)`));
    return { msgId: this.pusher.push(service.serviceSystemName, 'AddDealApplication', deal, true).msgId };
  }

  /** Goodfin's own generatedeals endpoint */
  route(): SandboxRoute {
    return {
      method: 'POST',
      path: GOODFIN_PATHS.generateDeals,
      handle: (request) => {
        const service = this.tokens.authorise(request);
        if (refused(service)) return service;
        const { serviceSystemName: _ignored, ...body } = parseBody(request, generateDealsBodySchema);
        // a token speaks for its own service only
        return { json: this.generate({ ...body, serviceSystemName: service.serviceSystemName }) };
      },
    };
  }
}
