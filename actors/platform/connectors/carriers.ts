import type { Logger } from 'winston';
import type { ReferenceCollections } from '../../../persistence/reference.ts';
import type { Connectors } from './kit/connectors.ts';
import { ConnectorError } from './kit/errors.ts';
import { novaPoshtaCarrier } from './novaposhta/carrier.ts';
import { NP_CONNECTOR_ERROR_CODES } from './novaposhta/client.ts';
import { novaPoshtaConnector } from './novaposhta/connector.ts';
import { SANDBOX_SENDER } from './novaposhta/sandbox.ts';
import type { Carrier } from './ports/carrier.ts';

export interface CarrierDeps {
  connectors: Connectors;
  reference: ReferenceCollections;
  logger: Logger;
  now?: () => number;
}

/** Every carrier the hub ships with. A new one is a folder with its `carrier.ts` and one line here. */
const CARRIERS: ReadonlyArray<(deps: CarrierDeps) => Carrier> = [
  (deps) =>
    novaPoshtaCarrier({
      client: () => deps.connectors.client(novaPoshtaConnector),
      settings: () => {
        const config = deps.connectors.configOf(novaPoshtaConnector);
        const sender = config.settings.sender ?? (config.sandboxed ? SANDBOX_SENDER : undefined);
        if (!sender)
          throw new ConnectorError(
            'novaposhta',
            NP_CONNECTOR_ERROR_CODES.senderNotConfigured,
            'set the sender in the novaposhta integration settings (settings.sender: cityRef, ref, addressRef, contactRef, phone)',
            false,
          );
        return { ...config.settings, sender };
      },
      reference: deps.reference,
      logger: deps.logger,
      ...(deps.now ? { now: deps.now } : {}),
    }),
];

/** The carriers by name. */
export class Carriers {
  private readonly byName: ReadonlyMap<string, Carrier>;

  constructor(deps: CarrierDeps) {
    this.byName = new Map(CARRIERS.map((make) => make(deps)).map((carrier) => [carrier.name, carrier]));
  }

  of(name: string): Carrier {
    const carrier = this.byName.get(name);
    if (!carrier) throw new Error(`no carrier named "${name}"`);
    return carrier;
  }
}
