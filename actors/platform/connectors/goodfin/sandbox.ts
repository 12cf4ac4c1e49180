import { startSandboxServer, type SandboxOptions, type SandboxServer } from '../kit/sandbox.ts';
import type { GeneratedDeals } from './protocol.ts';
import { goodfinControls, type GoodfinSandboxParts } from './sandbox/controls.ts';
import { DealFeed, type CancelDealOptions, type GenerateDealsOptions } from './sandbox/deal-feed.ts';
import { declarationRoutes } from './sandbox/declarations.ts';
import { SandboxDocuments } from './sandbox/documents.ts';
import { GoodfinInbound } from './sandbox/inbound.ts';
import { SandboxTokens } from './sandbox/oauth.ts';
import { GoodfinPusher, type PushedMessage, type ResendPolicy } from './sandbox/pusher.ts';
import { ServiceRegistry, type RegisteredService } from './sandbox/services.ts';

export { samplePdf } from './sandbox/documents.ts';
export { DEFAULT_RESEND_POLICY, type PushedMessage, type ResendPolicy } from './sandbox/pusher.ts';
export type { CancelDealOptions, GenerateDealsOptions } from './sandbox/deal-feed.ts';
export type { RegisteredService } from './sandbox/services.ts';

/**
 * The Goodfin sandbox (the service side of it): services registered with a
 * login and password, OAuth password-grant tokens that are real HS256 JWTs
 * with `exp`, the declarations a service makes (endpoint, statuses,
 * errors), attached documents to download, and both directions of
 * messages: Goodfin pushes applications and withdrawals to the declared
 * endpoint (in order, one at a time per service) and resends what the bank
 * did not answer with a CommonResponse; what the bank sends to `openapi/in`
 * is validated, kept once per msgId and answered with a CommonResponse.
 *
 * Each of those lives in `sandbox/`: services.ts (who is registered and what
 * they declared), oauth.ts (registration and tokens), declarations.ts,
 * documents.ts, sample-deals.ts (made-up applications), deal-feed.ts
 * (generated deals and withdrawals), pusher.ts (pushes and resends),
 * inbound.ts (`openapi/in`) and controls.ts (the test controls over HTTP).
 */

export const GOODFIN_SANDBOX_CREDENTIALS = { serviceSystemName: 'hubSandbx1', password: 'sandbox-goodfin-pass' };

export interface GoodfinSandbox extends SandboxServer {
  service(serviceSystemName: string): RegisteredService | null;
  /** seconds a new token lives (3599 by default, as Goodfin) */
  setTokenLifetime(seconds: number): void;
  /** makes every token issued so far invalid (the next call answers 401) */
  revokeTokens(): void;
  addDocument(documentId: string, content: Buffer): void;
  tokensIssued(): number;
  /** pushes test applications (AddDealApplication) to the service's endpoint; throws SandboxHttpError 400 without one */
  generateDeals(options?: GenerateDealsOptions): GeneratedDeals;
  /** pushes a CancelDealApplication (the client withdraws, or Goodfin itself with initiator SYSTEM) */
  cancelDeal(dealApplicationId: string, options?: CancelDealOptions): { msgId: string };
  /** pushes an earlier message again now, the same envelope (a duplicate delivery); false when unknown */
  repush(msgId: string, serviceSystemName?: string): boolean;
  setResendPolicy(policy: ResendPolicy): void;
  /** whether messages the bank sends are answered with a CommonResponse (on by default) */
  setAnswering(enabled: boolean): void;
  /** what Goodfin pushed to the service, oldest first */
  pushed(serviceSystemName?: string): PushedMessage[];
}

export async function startGoodfinSandbox(
  options: SandboxOptions = {},
  preregistered = GOODFIN_SANDBOX_CREDENTIALS,
): Promise<GoodfinSandbox> {
  const services = new ServiceRegistry(preregistered);
  const tokens = new SandboxTokens(services);
  const documents = new SandboxDocuments(tokens);
  const pusher = new GoodfinPusher(services);
  const inbound = new GoodfinInbound(tokens, pusher);
  const deals = new DealFeed(services, tokens, documents, pusher);
  const parts: GoodfinSandboxParts = { services, tokens, pusher, inbound, deals };

  // tokens survive a reset: the preregistered service keeps signing in with the token it has
  const reset = () => {
    pusher.reset();
    inbound.reset();
    services.reset();
    documents.reset();
  };
  reset();

  const server = await startSandboxServer(
    {
      name: 'goodfin',
      onReset: reset,
      describe: () => describeGoodfin(parts),
      controls: goodfinControls(parts),
      routes: [...tokens.routes(), ...declarationRoutes(services, tokens), deals.route(), inbound.route(), ...documents.routes()],
    },
    options,
  );
  const closeServer = server.close;
  return Object.assign(server, {
    service: (name: string) => services.view(name),
    setTokenLifetime: (seconds: number) => {
      tokens.lifetimeSeconds = seconds;
    },
    revokeTokens: () => tokens.revoke(),
    addDocument: (documentId: string, content: Buffer) => documents.add(documentId, content),
    tokensIssued: () => tokens.issued,
    generateDeals: (options?: GenerateDealsOptions) => deals.generate(options),
    cancelDeal: (dealApplicationId: string, options?: CancelDealOptions) => deals.cancel(dealApplicationId, options),
    repush: (msgId: string, serviceSystemName?: string) => pusher.repush(services.named(serviceSystemName).serviceSystemName, msgId),
    setResendPolicy: (policy: ResendPolicy) => pusher.setResendPolicy(policy),
    setAnswering: (enabled: boolean) => {
      inbound.answering = enabled;
    },
    pushed: (serviceSystemName?: string) => pusher.pushed(services.named(serviceSystemName).serviceSystemName),
    close: async () => {
      pusher.stop();
      inbound.forgetMessages();
      await closeServer();
    },
  });
}

/** The sandbox's state at a glance (`GET /__sandbox/state`). */
function describeGoodfin({ services, pusher, inbound }: GoodfinSandboxParts) {
  return {
    controlsActFor: services.controlsActFor,
    resendPolicy: pusher.resendPolicy,
    answering: inbound.answering,
    services: services.all().map((s) => {
      const sent = pusher.pushed(s.serviceSystemName);
      return {
        serviceSystemName: s.serviceSystemName,
        endpoint: s.endpoint?.url ?? null,
        statuses: s.statuses?.statuses.map((status) => ({ code: status.code, name: status.name })) ?? [],
        errors: s.errors?.errors.map((error) => error.code) ?? [],
        received: s.received.length,
        duplicates: s.duplicates,
        pushed: sent.length,
        unanswered: sent.filter((m) => m.expectsAnswer && !m.answered).length,
      };
    }),
  };
}
