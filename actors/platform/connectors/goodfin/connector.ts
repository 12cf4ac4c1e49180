import { z } from 'zod';
import { defineConnector } from '../kit/definition.ts';
import { GoodfinClient } from './client.ts';
import { GOODFIN_PATHS, oauthErrorSchema, registeredServiceSchema } from './protocol.ts';
import { GOODFIN_SANDBOX_CREDENTIALS, startGoodfinSandbox } from './sandbox.ts';
import { randomAlphanumeric } from '../kit/sandbox-secrets.ts';
import { DEFAULT_REVIEW_STATUSES, FIXED_STATUS_LABELS } from '../../../../common/goodfin-statuses.ts';

const statusCode = z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'upper-case letters, digits and _');

/**
 * The bank's side of the process, as configuration: the review statuses
 * staff may set (code and label, declared to Goodfin), new labels for the
 * fixed statuses, the amounts taken per product, the documents every
 * application must list. A change is declared to Goodfin at once; an
 * application keeps the policy it was received under.
 */
export const goodfinSettingsSchema = z.looseObject({
  reviewStatuses: z
    .array(z.object({ code: statusCode, name: z.string().min(1).max(200) }))
    .min(1)
    .refine((list) => new Set(list.map((s) => s.code)).size === list.length, 'each code once')
    .refine(
      (list) => list.every((s) => !(s.code in FIXED_STATUS_LABELS)),
      `the fixed statuses (${Object.keys(FIXED_STATUS_LABELS).join(', ')}) cannot be review statuses`,
    )
    .default(DEFAULT_REVIEW_STATUSES),
  /** e.g. {"ISSUED": "Гарантия выдана"} */
  statusLabels: z.record(z.string(), z.string().min(1).max(200)).default({}),
  limits: z
    .record(
      z.string().min(1),
      z.object({ min: z.number().nonnegative(), max: z.number().positive() }).refine((l) => l.min <= l.max, 'min ≤ max'),
    )
    .default({ BankGuarantee: { min: 100_000, max: 50_000_000 }, Loan: { min: 500_000, max: 30_000_000 } }),
  requiredDocuments: z.array(z.string().min(1)).default(['CHARTER', 'FINANCIAL_STATEMENT']),
  /**
   * Refuse (400) a message whose `receiver` is not our service name. Off by default: the integration
   * guide's own example carries a receiver that is no service id, so a strict bank would refuse Goodfin.
   */
  strictReceiver: z.boolean().default(false),
});
export type GoodfinSettings = z.infer<typeof goodfinSettingsSchema>;

export const goodfinConnector = defineConnector({
  name: 'goodfin',
  title: 'Goodfin',
  description: 'The Goodfin lending marketplace, bank side: applications in, statuses and answers out',
  defaultBaseUrl: 'https://sandbox.goodfin.ru',
  credentials: z.object({
    serviceSystemName: z.string().trim().min(1, 'the service login Goodfin issued (registerservice)'),
    password: z.string().min(1, 'the service password Goodfin issued'),
  }),
  settings: goodfinSettingsSchema,
  createClient: (http, config) => new GoodfinClient(http, config.credentials),
  test: async (client) => {
    await client.signIn();
    return `authenticated as service ${client.serviceSystemName}`;
  },
  sandbox: {
    start: (options, credentials) => startGoodfinSandbox(options, credentials),
    credentials: GOODFIN_SANDBOX_CREDENTIALS,
    // the preregistered service; the hub registers one of its own at start-up and uses that
    generateCredentials: () => ({ serviceSystemName: GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName, password: randomAlphanumeric(20) }),
    // as a bank starts with Goodfin's sandbox: registerservice hands out the service's login and password
    register: async (sandboxUrl) => {
      const answer = await fetch(`${sandboxUrl}${GOODFIN_PATHS.registerService}`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      if (!answer.ok) throw new Error(`registerservice answered ${answer.status}`);
      return registeredServiceSchema.parse(await answer.json());
    },
  },
  describeError: (_status, body) => {
    const parsed = oauthErrorSchema.safeParse(body);
    return parsed.success ? { code: parsed.data.error, message: parsed.data.error_description ?? parsed.data.error } : null;
  },
});
