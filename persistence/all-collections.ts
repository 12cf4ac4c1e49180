import { MongoClient } from 'mongodb';
import { alertsCollection } from './alerts.ts';
import {
  actorsCollection,
  apiKeysCollection,
  auditCollection,
  effectsCollection,
  idempotencyCollection,
  inboxCollection,
  journalCollection,
  leasesCollection,
  timersCollection,
} from './collections.ts';
import {
  invoiceNumbersCollection,
  invoicesCollection,
  ledgerCollection,
  mailCollection,
  providerRequestsCollection,
  reportsCollection,
  surveyTokensCollection,
} from './commerce.ts';
import { clickCompletionsCollection, clickNumbersCollection, clickTransactionsCollection } from './click.ts';
import { ensureCollectionIndexes, type DeclaredCollection } from './define-collection.ts';
import { applicationNumbersCollection, goodfinDocumentsCollection, outboxAnswersCollection, outboxCollection } from './goodfin.ts';
import { devicesCollection, registerLocksCollection } from './devices.ts';
import { integrationsCollection } from './integrations.ts';
import { paymeTransactionsCollection } from './payme.ts';
import { loyaltyCustomersCollection, loyaltyOutboxCollection } from './loyalty.ts';
import {
  marketplaceHeldImportsCollection,
  marketplaceListingsCollection,
  marketplaceOrdersCollection,
  marketplaceSyncCollection,
} from './marketplaces.ts';
import { citiesCollection, warehousesCollection } from './reference.ts';
import { jobStatusCollection } from './scheduler.ts';
import { hubMetaCollection } from './secret-box.ts';

/**
 * Every collection the hub declares, for checks that must see them all. Each
 * module still ensures its own at start-up (the runtime's on connect, the
 * others where the server first needs them); this list decides nothing there.
 * Agenda's `agendaJobs` is Agenda's own and not listed.
 */
export const allCollections: readonly DeclaredCollection[] = [
  // the runtime (collections.ts, integrations.ts, secret-box.ts)
  actorsCollection,
  journalCollection,
  idempotencyCollection,
  effectsCollection,
  timersCollection,
  leasesCollection,
  apiKeysCollection,
  integrationsCollection,
  devicesCollection,
  registerLocksCollection,
  auditCollection,
  inboxCollection,
  hubMetaCollection,
  // the job registry (scheduler.ts)
  jobStatusCollection,
  // alerts (alerts.ts)
  alertsCollection,
  // the order flow (commerce.ts)
  providerRequestsCollection,
  invoicesCollection,
  invoiceNumbersCollection,
  mailCollection,
  surveyTokensCollection,
  reportsCollection,
  ledgerCollection,
  // Nova Poshta's directory (reference.ts)
  citiesCollection,
  warehousesCollection,
  // Goodfin (goodfin.ts)
  outboxCollection,
  outboxAnswersCollection,
  applicationNumbersCollection,
  goodfinDocumentsCollection,
  // Payme's transactions (payme.ts)
  paymeTransactionsCollection,
  // Click's SHOP API (click.ts)
  clickTransactionsCollection,
  clickCompletionsCollection,
  clickNumbersCollection,
  // JOWi Club loyalty (loyalty.ts)
  loyaltyCustomersCollection,
  loyaltyOutboxCollection,
  // marketplaces (marketplaces.ts)
  marketplaceListingsCollection,
  marketplaceSyncCollection,
  marketplaceOrdersCollection,
  marketplaceHeldImportsCollection,
];

/**
 * Creates every declared collection and its indexes in database `dbName` at
 * `uri`, and returns once they are all there. A cluster primary does this
 * through the first FerretDB front end before any worker reaches the second
 * (FerretDB loads that metadata once per process; scripts/cluster-primary.ts):
 * some collections are otherwise first created where a request first needs
 * them (Payme's, Click's), which could be through either front end.
 */
export async function createEveryCollection(uri: string, dbName: string): Promise<void> {
  const client = await MongoClient.connect(uri);
  try {
    await ensureCollectionIndexes(client.db(dbName), allCollections);
  } finally {
    await client.close();
  }
}
