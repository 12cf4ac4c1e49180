import paymentModule, { type PaymentEvent } from '../../../machines/payment.ts';
import type { PaymentGateways } from '../../platform/connectors/payment-gateways.ts';
import type { PaymentGateway } from '../../platform/connectors/ports/payment-gateway.ts';
import type { WebhookSpec } from '../../platform/inbound/spec.ts';

/**
 * A provider's status callback, as the hub's webhook route takes it: the
 * gateway checks the signature and reads the status; the status goes to the
 * payment it names (`POST /webhooks/<provider>`), once per delivery.
 */
export function paymentWebhook(gateway: PaymentGateway): WebhookSpec {
  return {
    integration: gateway.provider,
    verify: (request, config) => gateway.webhook.verify(request, config),
    deliveryId: (request) => gateway.webhook.deliveryId(request),
    route(request) {
      const reported = gateway.webhook.statusOf(request);
      if (!reported) return null;
      const event: PaymentEvent = { type: 'PROVIDER_STATUS', ...reported.report };
      return { type: paymentModule.type, id: reported.paymentId, event };
    },
  };
}

/** Every provider's status callbacks. */
export function paymentWebhooks(gateways: PaymentGateways): WebhookSpec[] {
  return gateways.list().map(paymentWebhook);
}
