import applicationModule, { type ApplicationDocument, type OutgoingMessage } from '../../../machines/goodfin-application.ts';
import { claimApplicationNumber, documentKey, type GoodfinCollections } from '../../../persistence/goodfin.ts';
import { isDuplicateKeyError } from '../../../persistence/collections.ts';
import type { PersonalDataCipher } from '../../../persistence/personal-data-key.ts';
import type { Connectors } from '../../platform/connectors/kit/connectors.ts';
import { goodfinConnector } from '../../platform/connectors/goodfin/connector.ts';
import { bindEffects, type BoundEffects, type EffectHandler } from '../../runtime/effects.ts';
import type { GoodfinOutbox } from './outbox.ts';

const PREFIX: Record<string, string> = { BankGuarantee: 'BG', Loan: 'LN' };

/** What the Goodfin application machine invokes: the outbox, its number, its documents (each downloaded once). */
export function goodfinEffects(deps: {
  outbox: GoodfinOutbox;
  collections: GoodfinCollections;
  connectors: Connectors;
  /** a client's documents are kept sealed */
  personalData: PersonalDataCipher;
  now?: () => number;
}): BoundEffects {
  const now = deps.now ?? Date.now;

  const queueMessages: EffectHandler<{ applicationId: string; messages: OutgoingMessage[] }, { queued: number }> = async (input) => ({
    queued: await deps.outbox.enqueue(input.applicationId, input.messages),
  });

  const assignNumber: EffectHandler<{ applicationId: string; productType: string; receivedAt: string }, { number: string }> = async (
    input,
  ) => {
    const year = Number(input.receivedAt.slice(0, 4)) || new Date(now()).getUTCFullYear();
    const claim = await claimApplicationNumber(deps.collections.numbers, input.applicationId, year, new Date(now()));
    return { number: `${PREFIX[input.productType] ?? 'AP'}-${claim.year}-${String(claim.n).padStart(6, '0')}` };
  };

  const downloadDocuments: EffectHandler<{ applicationId: string; documents: ApplicationDocument[] }, { downloaded: string[] }> = async (
    input,
    context,
  ) => {
    const downloaded: string[] = [];
    for (const document of input.documents) {
      const key = documentKey(input.applicationId, document.documentId);
      if (!(await deps.collections.documents.findOne({ _id: key }, { projection: { _id: 1 } }))) {
        const content = await deps.connectors.client(goodfinConnector).downloadDocument(document.documentId, {
          actor: { type: 'goodfin-application', id: input.applicationId },
          signal: context.signal,
        });
        await deps.collections.documents
          .insertOne({
            _id: key,
            documentId: document.documentId,
            applicationId: input.applicationId,
            fileName: document.fileName,
            documentType: document.documentType,
            size: content.length,
            content: deps.personalData.sealBytes(content),
            sealed: true,
            downloadedAt: new Date(now()),
          })
          .catch((error: unknown) => {
            if (!isDuplicateKeyError(error)) throw error;
          });
      }
      downloaded.push(document.documentId);
    }
    return { downloaded };
  };

  return bindEffects(applicationModule, { queueMessages, assignNumber, downloadDocuments });
}
