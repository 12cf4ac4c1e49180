import type { MachineModule } from '../../machines/machine-module.ts';
import { errors } from '../../common/errors.ts';
import type { EffectHandlers } from './effects.ts';
import { invokedSources } from './machine-glue.ts';

const TYPE_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Machines by type, with the effect handlers their invocations run. Checked
 * when the service boots, so a machine that invokes work nobody implements
 * fails at start, not in production.
 */
export class MachineRegistry {
  private readonly modules = new Map<string, MachineModule>();
  private handlers: Record<string, EffectHandlers[string]> = {};

  register(module: MachineModule): this {
    if (!TYPE_PATTERN.test(module.type)) {
      throw new Error(`machine type "${module.type}" must match ${TYPE_PATTERN}`);
    }
    if (!Number.isInteger(module.version) || module.version < 1) {
      throw new Error(`machine "${module.type}" has version ${module.version}; versions are positive integers`);
    }
    for (const from of Object.keys(module.migrations).map(Number)) {
      if (!Number.isInteger(from) || from < 1 || from >= module.version) {
        throw new Error(`machine "${module.type}" declares a migration from version ${from}, outside 1..${module.version - 1}`);
      }
    }
    if (this.modules.has(module.type)) throw new Error(`machine type "${module.type}" is registered twice`);
    this.modules.set(module.type, module);
    return this;
  }

  provideEffects(handlers: EffectHandlers): this {
    for (const [name, handler] of Object.entries(handlers)) {
      if (this.handlers[name] && this.handlers[name] !== handler) throw new Error(`effect "${name}" is provided twice`);
      this.handlers[name] = handler;
    }
    return this;
  }

  /** Every invoked `src` has a handler. */
  validate(): void {
    const problems: string[] = [];
    for (const module of this.modules.values()) {
      for (const src of invokedSources(module.machine)) {
        if (!this.handlers[src]) problems.push(`machine "${module.type}" invokes "${src}", but no effect handler is provided`);
      }
    }
    if (problems.length > 0) throw new Error(problems.join('\n'));
  }

  get(type: string): MachineModule {
    const module = this.modules.get(type);
    if (!module) throw errors.unknownMachine(type, [...this.modules.keys()]);
    return module;
  }

  has(type: string): boolean {
    return this.modules.has(type);
  }

  list(): MachineModule[] {
    return [...this.modules.values()];
  }

  effect(src: string): EffectHandlers[string] | undefined {
    return this.handlers[src];
  }
}
