import type { JowiClient } from '../../platform/connectors/jowi/client.ts';
import { jowiConnector, jowiSettingsSchema, type JowiSettings } from '../../platform/connectors/jowi/connector.ts';
import type { Connectors } from '../../platform/connectors/kit/connectors.ts';

/** How the loyalty module reaches JOWi: the current client (throws a ConnectorError when not configured) and settings. */
export interface JowiAccess {
  client(): JowiClient;
  settings(): JowiSettings;
}

export const DEFAULT_JOWI_SETTINGS: JowiSettings = jowiSettingsSchema.parse({});

/** JOWi through the connector kit: its configuration, or its sandbox when nothing is configured. */
export function jowiAccess(connectors: Connectors): JowiAccess {
  return {
    client: () => connectors.client(jowiConnector),
    settings: () => {
      try {
        return connectors.configOf(jowiConnector).settings;
      } catch {
        return DEFAULT_JOWI_SETTINGS;
      }
    },
  };
}
