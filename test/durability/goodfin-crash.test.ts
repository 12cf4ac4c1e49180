import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import goodfinApplication from '../../machines/goodfin-application.ts';
import { GOODFIN_SANDBOX_CREDENTIALS } from '../../actors/platform/connectors/goodfin/sandbox.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, hubDatabases, startHubProcess } from '../support/hub-process.ts';
import { goodfinOf, startGoodfinSandboxProcess } from '../support/goodfin.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';

// The applications as they were when the hub was killed and after it resumed them, replayed from their journals.
after(() => assertHubJournalsReplay(hubDatabases(), [goodfinApplication]));

interface Envelope {
  payloadType: string;
  msgId: string;
  payload: { dealApplicationId: string; status?: string; serviceApplicationNumber?: string; originalMsgId?: string; success?: boolean };
}
interface Messages {
  pushed: Array<{ msgId: string; payloadType: string; dealApplicationId: string; pushes: number; answered: { success: boolean } | null }>;
  received: Envelope[];
  duplicates: number;
}

test('a hub killed (SIGKILL) while Goodfin pushes deals and the bank answers loses nothing and duplicates nothing', async () => {
  // Goodfin lives on in its own process while the hub dies
  const sandbox = await startGoodfinSandboxProcess();
  const dbName = uniqueDatabaseName('goodfin-crash');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-goodfin-crash-'));
  const env = {
    HUB_INTEGRATION_GOODFIN: JSON.stringify({ baseUrl: sandbox.url, credentials: GOODFIN_SANDBOX_CREDENTIALS }),
    // effects in flight at the kill are taken over by the restarted hub after this, not the default 30 s
    HUB_EFFECT_LEASE_MS: '1500',
  };
  let hub = await startHubProcess({ dbName, dataDir, env });
  try {
    const goodfin = await goodfinOf(hubClient(hub.url), sandbox.url);
    // Goodfin pushes again what it heard no answer to, soon (the hub is away for a few seconds)
    await goodfin.control('resend-policy', { resendAfterMs: 1_000, maxResends: 60 });
    await eventually(
      async () =>
        ((await goodfin.control('state'))?.state as { services: Array<{ endpoint: string | null }> }).services.some((s) =>
          s.endpoint?.startsWith(hub.url),
        ) || undefined,
      20_000,
      'the endpoint declared',
    );

    const generated = (await goodfin.control('generatedeals', { count: 8 })) as {
      deals: Array<{ dealApplicationId: string; msgId: string }>;
    };
    assert.equal(generated.deals.length, 8);
    // killed as soon as the first application exists: the others are on the way, or half done
    await eventually(
      async () => (((await hubClient(hub.url).get('/applications')).body.applications as unknown[]).length > 0 ? true : undefined),
      20_000,
      'a first application',
    );
    await hub.crash();

    hub = await startHubProcess({ dbName, dataDir, env });
    const client = hubClient(hub.url);
    for (const deal of generated.deals)
      await client.waitForState(`/applications/${deal.dealApplicationId}`, 'active.readyForSigning', 60_000);

    const messages = await eventually(
      async () => {
        const got = (await (await fetch(`${sandbox.url}/__sandbox/messages`)).json()) as Messages;
        const answered = got.pushed.filter((p) => p.payloadType === 'AddDealApplication').every((p) => p.answered?.success === true);
        const perDeal = generated.deals.every(
          (d) => got.received.filter((m) => m.payload.dealApplicationId === d.dealApplicationId).length >= 4,
        );
        return answered && perDeal ? got : undefined;
      },
      60_000,
      'every deal answered and announced at Goodfin',
    );

    const numbers: string[] = [];
    for (const deal of generated.deals) {
      const mine = messages.received.filter((m) => m.payload.dealApplicationId === deal.dealApplicationId);
      // Goodfin keeps one copy per msgId; two msgIds for one logical message would be a duplicate side effect
      assert.deepEqual(
        mine.map((m) => (m.payloadType === 'ChangeDealApplicationStatusEvent' ? m.payload.status : m.payloadType)),
        ['CommonResponse', 'RECEIVED', 'UpdateApplicationParams', 'READY_FOR_SIGNING'],
        `messages of ${deal.dealApplicationId}: ${JSON.stringify(mine.map((m) => m.payload))}`,
      );
      assert.equal(mine[0]?.payload.originalMsgId, deal.msgId);
      numbers.push(String(mine[2]?.payload.serviceApplicationNumber));
    }
    // one number each, none twice, none skipped
    const sequence = numbers.map((n) => Number(n.slice(-6))).sort((a, b) => a - b);
    assert.deepEqual(sequence, [1, 2, 3, 4, 5, 6, 7, 8], numbers.join(' '));
    const list = (await client.get('/applications?limit=200')).body.applications as Array<{ id: string }>;
    assert.equal(list.length, 8, 'each deal became one application');
  } finally {
    await hub.terminate();
    await sandbox.stop();
  }
});
