import type { AnyMachineModule, PersistedSnapshotJson, PersonalDataKind, PersonalDataPaths } from '../../machines/machine-module.ts';
import { ERASED, ERASED_TEXT, PersonalDataCipher } from '../../persistence/personal-data-key.ts';

/**
 * The machines declare where their actors hold personal data (`personalData` on a module); this
 * walks those paths: sealing before anything is stored, opening after it is read, masking for
 * those who may not read it, and erasing when a customer asks to be forgotten.
 */

type Transform = (value: unknown, kind: PersonalDataKind) => unknown;

/** A copy of `root` with the value at every path transformed; what a path does not reach is left as it is. */
export function mapPersonalPaths(root: unknown, paths: PersonalDataPaths | undefined, transform: Transform): unknown {
  if (!paths) return root;
  let result = root;
  for (const [path, kind] of Object.entries(paths)) result = mapPath(result, path.split('.'), kind, transform);
  return result;
}

function mapPath(node: unknown, segments: readonly string[], kind: PersonalDataKind, transform: Transform): unknown {
  if (segments.length === 0) return node === null || node === undefined ? node : transform(node, kind);
  if (typeof node !== 'object' || node === null) return node;
  const [segment, ...rest] = segments as [string, ...string[]];
  if (Array.isArray(node)) {
    if (segment !== '*') return node;
    return node.map((item: unknown) => mapPath(item, rest, kind, transform));
  }
  const record = node as Record<string, unknown>;
  if (segment === '*')
    return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, mapPath(value, rest, kind, transform)]));
  if (!Object.hasOwn(record, segment)) return node;
  return { ...record, [segment]: mapPath(record[segment], rest, kind, transform) };
}

/** Every value at the paths, with its kind (plain values only: sealed ones are skipped). */
export function personalValuesOf(root: unknown, paths: PersonalDataPaths | undefined): Array<{ kind: PersonalDataKind; value: unknown }> {
  const found: Array<{ kind: PersonalDataKind; value: unknown }> = [];
  mapPersonalPaths(root, paths, (value, kind) => {
    if (!PersonalDataCipher.isSealed(value)) found.push({ kind, value });
    return value;
  });
  return found;
}

/** `+38050***4567`: the country and operator code stay (they say which network), the subscriber's digits but the last four go. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  const plus = phone.trim().startsWith('+') ? '+' : '';
  if (digits.length < 9) return `${plus}***${digits.slice(-2)}`;
  return `${plus}${digits.slice(0, 5)}***${digits.slice(-4)}`;
}

/** `i***@example.com`: enough to tell two customers' addresses apart on a call, not enough to write to. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${[...email.slice(0, at)][0] ?? ''}***${email.slice(at)}`;
}

/** `І*** П***`: initials only. */
export function maskName(name: string): string {
  return name
    .trim()
    .split(/\s+/)
    .filter((word) => word !== '')
    .map((word) => `${[...word][0] ?? ''}***`)
    .join(' ');
}

export function maskValue(value: unknown, kind: PersonalDataKind): unknown {
  if (value === ERASED_TEXT) return value;
  if (typeof value !== 'string') return '***';
  if (kind === 'phone') return maskPhone(value);
  if (kind === 'email') return maskEmail(value);
  if (kind === 'name') return maskName(value);
  return '***';
}

/** The declared personal values of a context masked (for viewers). */
export function maskContext<T>(module: AnyMachineModule, context: T): T {
  // the masks keep the shape: a path's value becomes a string (or stays null)
  return mapPersonalPaths(context, module.personalData?.context, maskValue) as T;
}

/** The paths an event of this type carries personal data at (a creation's input is journalled as `xstate.init`). */
function eventPathsOf(module: AnyMachineModule, eventType: string): PersonalDataPaths | undefined {
  const declared = module.personalData;
  if (!declared) return undefined;
  if (eventType === 'xstate.init') {
    const input = declared.input ?? declared.context;
    return Object.fromEntries(Object.entries(input).map(([path, kind]) => [`input.${path}`, kind]));
  }
  return declared.events?.[eventType];
}

/** Seals, opens and indexes the personal data of actors, by their modules' declarations. */
export class PersonalDataSealer {
  constructor(readonly cipher: PersonalDataCipher) {}

  private readonly seal: Transform = (value) => (PersonalDataCipher.isSealed(value) ? value : this.cipher.seal(value));
  private readonly open: Transform = (value) => (PersonalDataCipher.isSealed(value) ? this.cipher.open(value) : value);

  sealSnapshot(module: AnyMachineModule, snapshot: PersistedSnapshotJson): PersistedSnapshotJson {
    const paths = module.personalData?.context;
    return paths ? { ...snapshot, context: mapPersonalPaths(snapshot.context, paths, this.seal) } : snapshot;
  }

  /** Old snapshots stored in clear are read as they are (and sealed when the actor is next written). */
  openSnapshot(module: AnyMachineModule, snapshot: PersistedSnapshotJson): PersistedSnapshotJson {
    const paths = module.personalData?.context;
    return paths ? { ...snapshot, context: mapPersonalPaths(snapshot.context, paths, this.open) } : snapshot;
  }

  sealEvent<T>(module: AnyMachineModule, eventType: string, event: T): T {
    // a sealed value stands where the plain one was; the shape is the event's own
    return mapPersonalPaths(event, eventPathsOf(module, eventType), this.seal) as T;
  }

  openEvent<T>(module: AnyMachineModule, eventType: string, event: T): T {
    return mapPersonalPaths(event, eventPathsOf(module, eventType), this.open) as T;
  }

  /**
   * An effect's input, sealed whole: the arguments of connector calls (a recipient's phone, an e-mail
   * to write to) are whatever the machine passes, and one seal per effect costs less than knowing where.
   */
  sealJson(json: string): string {
    return this.cipher.seal(json);
  }

  /** A JSON text stored sealed whole (or, written before sealing, in clear), parsed. */
  openJson(stored: string): unknown {
    return JSON.parse(PersonalDataCipher.isSealed(stored) ? String(this.cipher.open(stored)) : stored) as unknown;
  }

  /** Blind indexes of the phones and e-mails a context holds (to find a customer's actors). */
  indexOf(module: AnyMachineModule, context: unknown): string[] {
    const found = new Set<string>();
    for (const { kind, value } of personalValuesOf(context, module.personalData?.context)) {
      if ((kind !== 'phone' && kind !== 'email') || typeof value !== 'string') continue;
      const index = this.cipher.blindIndex(kind, value);
      if (index) found.add(index);
    }
    return [...found];
  }

  /**
   * Blind indexes of a context as it was stored, sealed or not (data written before sealing existed):
   * sealed values are opened, erased ones index nothing.
   */
  indexOfStored(module: AnyMachineModule, storedContext: unknown): string[] {
    const opened = mapPersonalPaths(storedContext, module.personalData?.context, (value, kind) =>
      value === ERASED ? null : this.open(value, kind),
    );
    return this.indexOf(module, opened);
  }
}

/** Replaces every declared value, sealed or not, by the erased marker (a customer forgotten). */
export function erasePaths(root: unknown, paths: PersonalDataPaths | undefined): unknown {
  return mapPersonalPaths(root, paths, () => ERASED);
}

export { eventPathsOf };
