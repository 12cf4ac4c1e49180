import type { AnyConnector } from './definition.ts';

/** What an integration may be called: it names the connector, the admin API's path and the metrics' label. */
export const INTEGRATION_NAME = /^[a-z][a-z0-9-]{1,39}$/;

/** The connectors this hub knows, by name; a badly named or repeated definition fails at start. */
export class ConnectorRegistry {
  private readonly definitions = new Map<string, AnyConnector>();

  constructor(definitions: AnyConnector[]) {
    for (const definition of definitions) {
      if (!INTEGRATION_NAME.test(definition.name)) throw new Error(`connector name "${definition.name}" must match ${INTEGRATION_NAME}`);
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
