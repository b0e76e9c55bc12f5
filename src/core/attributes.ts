import type { SessionContext } from './context.js';
import { UnisessionError } from './errors.js';
import { checkName, isValidName } from './names.js';
import { type AttributeKey, splitAttributeKey } from './store.js';

/** One attribute as this request knows it. */
interface Slot {
  /** The text the store holds, when `known`; undefined means absent from the store. */
  stored: string | undefined;
  known: boolean;
  value: unknown;
  hasValue: boolean;
  /** Text of the last `set`, reused at commit for primitives. */
  assignedText: string | undefined;
  assigned: boolean;
  removed: boolean;
}

/** What one commit writes, plus what was there before (for listener events). */
export interface AttributeDelta {
  set: Map<AttributeKey, string>;
  remove: AttributeKey[];
  /** Stored text before the change, for keys whose prior state is known; undefined = absent. */
  prior: Map<AttributeKey, string | undefined>;
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

/**
 * The attribute cache of one request, and its change tracking. Objects that were read are
 * re-encoded at commit and compared with what was loaded, so in-place mutation is saved
 * without a second `set`, and a `set` of an unchanged value writes nothing.
 */
export class AttributeTable {
  private slots = new Map<AttributeKey, Slot>();
  /** Every attribute of the session is in `slots` (loaded all, or a new session). */
  private complete = false;

  constructor(private readonly context: SessionContext) {}

  fromStore(attributes: ReadonlyMap<AttributeKey, string>, complete: boolean): void {
    this.slots.clear();
    for (const [key, text] of attributes) {
      if (this.isReadable(key)) this.slots.set(key, storedSlot(text));
    }
    if (this.context.preloadKeys !== 'all') {
      for (const key of this.context.preloadKeys)
        if (!this.slots.has(key)) this.slots.set(key, storedSlot(undefined));
    }
    this.complete = complete;
  }

  reset(): void {
    this.slots.clear();
    this.complete = true;
  }

  /**
   * Whether a stored key is this app's to read: shared or its own namespace, and a name the
   * API accepts. A stored `__proto__` (written before names were checked, or by hand) is never
   * read, never written back and never deleted: it stays in the store, untouched.
   */
  private isReadable(key: AttributeKey): boolean {
    return this.context.isVisible(key) && isValidName(splitAttributeKey(key).name);
  }

  async get(sessionId: string, name: string, persisted: boolean): Promise<unknown> {
    const key = this.context.keyOf(checkName(name));
    if (!this.slots.has(key) && persisted && !this.complete) {
      const fetched = await this.context.store.loadAttributes(sessionId, [key]);
      if (!this.slots.has(key)) this.slots.set(key, storedSlot(fetched.get(key)));
    }
    return this.peekKey(sessionId, key);
  }

  /** Reads what is already loaded; never touches the store. An invalid name holds nothing. */
  peek(sessionId: string, name: string): unknown {
    if (!isValidName(name)) return undefined;
    return this.peekKey(sessionId, this.context.keyOf(name));
  }

  private peekKey(sessionId: string, key: AttributeKey): unknown {
    const slot = this.slots.get(key);
    if (!slot || slot.removed) return undefined;
    if (!slot.hasValue && slot.stored !== undefined) this.decodeInto(sessionId, key, slot);
    return slot.value;
  }

  /** Length of the stored text of an attribute not yet decoded; 0 when there is nothing to decode. */
  undecodedLength(name: string): number {
    if (!isValidName(name)) return 0;
    const slot = this.slots.get(this.context.keyOf(name));
    return slot && !slot.hasValue && !slot.removed ? (slot.stored?.length ?? 0) : 0;
  }

  async all(sessionId: string, persisted: boolean): Promise<Record<string, unknown>> {
    if (persisted && !this.complete) {
      const loaded = await this.context.store.load(sessionId, 'all', Date.now());
      for (const [key, text] of loaded?.attributes ?? []) {
        if (this.isReadable(key) && !this.slots.has(key)) this.slots.set(key, storedSlot(text));
      }
      this.complete = true;
    }
    const result: Record<string, unknown> = {};
    for (const name of this.visibleNames()) {
      const value = this.peek(sessionId, name);
      // defineProperty, not assignment: no name, whatever it is, can set the result's prototype.
      if (value !== undefined)
        Object.defineProperty(result, name, { value, enumerable: true, writable: true, configurable: true });
    }
    return result;
  }

  /** Names with a value in this request (loaded or set), not removed. */
  visibleNames(): string[] {
    const names: string[] = [];
    for (const [key, slot] of this.slots) {
      if (!slot.removed && (slot.hasValue || slot.stored !== undefined))
        names.push(splitAttributeKey(key).name);
    }
    return names;
  }

  set(name: string, value: unknown): void {
    checkName(name);
    const text = this.encode(name, value);
    const key = this.context.keyOf(name);
    const slot = this.slots.get(key) ?? this.absentSlot();
    slot.value = value;
    slot.hasValue = true;
    slot.assigned = true;
    slot.assignedText = text;
    slot.removed = false;
    this.slots.set(key, slot);
  }

  remove(name: string): void {
    const key = this.context.keyOf(checkName(name));
    const slot = this.slots.get(key) ?? this.absentSlot();
    slot.removed = true;
    slot.hasValue = false;
    slot.value = undefined;
    slot.assigned = false;
    this.slots.set(key, slot);
  }

  /** The changes since the last commit. Encodes each object that was read or set. */
  delta(): AttributeDelta {
    const delta: AttributeDelta = { set: new Map(), remove: [], prior: new Map() };
    for (const [key, slot] of this.slots) {
      if (slot.removed) {
        if (slot.known && slot.stored === undefined) continue;
        delta.remove.push(key);
      } else if (slot.hasValue && (slot.assigned || isObject(slot.value))) {
        const text =
          slot.assigned && !isObject(slot.value)
            ? slot.assignedText!
            : this.encode(splitAttributeKey(key).name, slot.value);
        if (slot.known && slot.stored === text) continue;
        delta.set.set(key, text);
      } else {
        continue;
      }
      if (slot.known) delta.prior.set(key, slot.stored);
    }
    return delta;
  }

  /** Listeners need to know added vs. replaced: fetch what the delta's unknown keys held. */
  async resolvePriorValues(sessionId: string, delta: AttributeDelta): Promise<void> {
    const { events } = this.context;
    if (!events.has('attributeAdded') && !events.has('attributeReplaced') && !events.has('attributeRemoved'))
      return;
    const unknown = [...delta.set.keys(), ...delta.remove].filter((key) => !delta.prior.has(key));
    if (unknown.length === 0) return;
    const fetched = await this.context.store.loadAttributes(sessionId, unknown);
    for (const key of unknown) delta.prior.set(key, fetched.get(key));
  }

  markSaved(delta: AttributeDelta): void {
    for (const [key, text] of delta.set) {
      const slot = this.slots.get(key)!;
      slot.stored = text;
      slot.known = true;
      slot.assigned = false;
    }
    for (const key of delta.remove) this.slots.set(key, storedSlot(undefined));
  }

  emitChanges(sessionId: string, delta: AttributeDelta): void {
    const { events } = this.context;
    for (const [key, text] of delta.set) {
      const { namespace, name } = splitAttributeKey(key);
      const prior = delta.prior.get(key);
      const value = this.slots.get(key)?.value;
      if (prior === undefined) {
        if (events.has('attributeAdded'))
          events.emit('attributeAdded', { sessionId, namespace, name, value });
      } else if (events.has('attributeReplaced') && prior !== text) {
        const oldValue = this.tryDecode(sessionId, key, prior);
        events.emit('attributeReplaced', { sessionId, namespace, name, value, oldValue });
      }
    }
    for (const key of delta.remove) {
      const prior = delta.prior.get(key);
      if (prior === undefined || !events.has('attributeRemoved')) continue;
      const { namespace, name } = splitAttributeKey(key);
      events.emit('attributeRemoved', {
        sessionId,
        namespace,
        name,
        oldValue: this.tryDecode(sessionId, key, prior),
      });
    }
  }

  /** A slot for a key not loaded: known-absent in a complete table, unknown otherwise. */
  private absentSlot(): Slot {
    return this.complete ? storedSlot(undefined) : { ...storedSlot(undefined), known: false };
  }

  private encode(name: string, value: unknown): string {
    const text = this.context.codec.encode(value);
    const limit = this.context.options.maxValueBytes;
    // Cheap bound first: a string's UTF-8 size is at most 3 bytes per UTF-16 unit.
    if (text.length * 3 > limit && Buffer.byteLength(text) > limit) {
      throw new UnisessionError(
        'UNISESSION_VALUE_TOO_LARGE',
        `"${name}" is ${Buffer.byteLength(text)} bytes, limit ${limit}`,
      );
    }
    return text;
  }

  private decodeInto(sessionId: string, key: AttributeKey, slot: Slot): void {
    slot.value = this.tryDecode(sessionId, key, slot.stored!);
    // An undecodable value reads as absent; it stays in the store (an older node may still read it).
    slot.hasValue = slot.value !== undefined;
  }

  private tryDecode(sessionId: string, key: AttributeKey, text: string): unknown {
    try {
      return this.context.codec.decode(text);
    } catch (cause) {
      const error = cause instanceof Error ? cause : new Error(String(cause));
      this.context.events.emit('decodeError', { sessionId, ...splitAttributeKey(key), error });
      return undefined;
    }
  }
}

function storedSlot(text: string | undefined): Slot {
  return {
    stored: text,
    known: true,
    value: undefined,
    hasValue: false,
    assignedText: undefined,
    assigned: false,
    removed: false,
  };
}
