// The connector registry: the composition root registers connector types by name; channels refer to
// them by that name. The engine itself imports no connector.
import type { ConnectorDefinition } from './types';

export class ConnectorRegistry {
  private readonly definitions = new Map<string, ConnectorDefinition<any>>();

  register<C>(definition: ConnectorDefinition<C>): this {
    if (this.definitions.has(definition.type)) throw new Error(`connector type "${definition.type}" is registered twice`);
    this.definitions.set(definition.type, definition as ConnectorDefinition<any>);
    return this;
  }

  get(type: string): ConnectorDefinition<any> | undefined {
    return this.definitions.get(type);
  }

  types(): string[] {
    return [...this.definitions.keys()].sort();
  }
}
