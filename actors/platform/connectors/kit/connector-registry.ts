import type { AnyConnector } from './definition.ts';

/** What an integration may be called: it names the connector, the admin API's path and the metrics' label. */
export const INTEGRATION_NAME = /^[a-z][a-z0-9-]{1,39}$/;

/**
 * Whether `name` may name an integration: the pattern, and not a property every object has (`constructor`
 * matches the pattern, and a plain object keyed by integration would find Object.prototype's under it).
 */
export function isIntegrationName(name: string): boolean {
  return INTEGRATION_NAME.test(name) && !(name in Object.prototype);
}

/** The connectors this hub knows, by name; a badly named or repeated definition fails at start. */
export class ConnectorRegistry {
  private readonly definitions = new Map<string, AnyConnector>();

  constructor(definitions: AnyConnector[]) {
    for (const definition of definitions) {
      if (!isIntegrationName(definition.name)) throw new Error(`connector name "${definition.name}" must match ${INTEGRATION_NAME}`);
      if (this.definitions.has(definition.name)) throw new Error(`connector "${definition.name}" is defined twice`);
      this.definitions.set(definition.name, definition);
    }
  }

  get(name: string): AnyConnector | undefined {
    return this.definitions.get(name);
  }

  has(name: string): boolean {
    return this.definitions.has(name);
  }

  names(): string[] {
    return [...this.definitions.keys()];
  }

  all(): AnyConnector[] {
    return [...this.definitions.values()];
  }
}
