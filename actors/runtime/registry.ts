import type { AnyMachineModule } from '../../machines/machine-module.ts';
import { errors } from '../../common/errors.ts';
import type { BoundEffects, RecordedEffect } from './effects.ts';
import { invokedSources } from './machine-glue.ts';

const TYPE_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Machines by type, with the effect handlers their invocations run. Checked
 * when the service boots, so a machine that invokes work nobody implements
 * fails at start, not in production.
 */
export class MachineRegistry {
  private readonly modules = new Map<string, AnyMachineModule>();
  /** keyed `<type>/<src>`: each machine's effects are its own, whatever another machine calls its effects */
  private readonly handlers = new Map<string, RecordedEffect>();

  register(module: AnyMachineModule): this {
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

  provideEffects(...bound: BoundEffects[]): this {
    for (const { type, handlers } of bound) {
      for (const [src, handler] of Object.entries(handlers)) {
        const key = `${type}/${src}`;
        if (this.handlers.has(key)) throw new Error(`effect "${src}" of machine "${type}" is provided twice`);
        this.handlers.set(key, handler);
      }
    }
    return this;
  }

  /** Every invoked `src` has a handler, and every handler is invoked by its machine. */
  validate(): void {
    const problems: string[] = [];
    const invoked = new Set<string>();
    for (const module of this.modules.values()) {
      for (const src of invokedSources(module.machine)) {
        invoked.add(`${module.type}/${src}`);
        if (!this.handlers.has(`${module.type}/${src}`))
          problems.push(`machine "${module.type}" invokes "${src}", but no effect handler is provided`);
      }
    }
    for (const key of this.handlers.keys()) {
      if (!invoked.has(key)) problems.push(`an effect handler is provided for "${key}", which no registered machine invokes`);
    }
    if (problems.length > 0) throw new Error(problems.join('\n'));
  }

  get(type: string): AnyMachineModule {
    const module = this.modules.get(type);
    if (!module) throw errors.unknownMachine(type, [...this.modules.keys()]);
    return module;
  }

  has(type: string): boolean {
    return this.modules.has(type);
  }

  list(): AnyMachineModule[] {
    return [...this.modules.values()];
  }

  effect(type: string, src: string): RecordedEffect | undefined {
    return this.handlers.get(`${type}/${src}`);
  }
}
