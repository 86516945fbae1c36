import type { JsonSchema } from './contract';
import { EDGE_NUMBERS, hostileString, NUMBERISH_STRINGS, wrongJson } from './hostile';
import type { Random } from './random';

/**
 * Field-level mutations of a request object, shared by the REST and socket fuzzers. Each returns
 * a label for the case's description, so a failure says what was sent.
 */
export interface FieldContext {
  /** Ids of other users and matches: the IDOR values. */
  foreignIds: readonly number[];
}

/**
 * Mutates `target` (an object its schema's `fields` describe) in place, one to three times;
 * returns what it did. Half of the time it is one text field given hostile text and nothing
 * else: the request stays valid but for what the text holds, as an attacker's message would.
 */
export function mutateFields(
  target: Record<string, unknown>,
  fields: Record<string, JsonSchema>,
  random: Random,
  context: FieldContext,
): string[] {
  const texts = Object.keys(fields).filter((name) => takesText(fields[name]!));
  if (texts.length > 0 && random.chance(0.5)) {
    const field = random.pick(texts);
    set(target, field, hostileString(random));
    return [`hostile-text:${field}`];
  }
  const fieldNames = Object.keys(fields);
  const done: string[] = [];
  const times = random.weighted([
    [5, 1],
    [3, 2],
    [2, 3],
  ]);
  for (let i = 0; i < times; i++) {
    const known = [...new Set([...fieldNames, ...Object.keys(target)])];
    const field = known.length > 0 && random.chance(0.85) ? random.pick(known) : extraName(random);
    const kind = random.weighted<string>([
      [2, 'drop'],
      [3, 'wrong-type'],
      [3, 'hostile-string'],
      [3, 'edge-number'],
      [2, 'numberish'],
      [3, 'foreign-id'],
      [1, 'extra'],
    ]);
    switch (kind) {
      case 'drop':
        delete target[field];
        break;
      case 'wrong-type':
        set(target, field, wrongJson(random));
        break;
      case 'hostile-string':
        set(target, field, hostileString(random));
        break;
      case 'edge-number':
        set(target, field, random.pick(EDGE_NUMBERS));
        break;
      case 'numberish':
        set(target, field, random.pick(NUMBERISH_STRINGS));
        break;
      case 'foreign-id':
        set(target, field, random.pick(context.foreignIds));
        break;
      case 'extra':
        set(target, extraName(random), wrongJson(random));
        break;
    }
    done.push(`${kind}:${field}`);
  }
  return done;
}

function extraName(random: Random): string {
  return random.pick([
    'user_id',
    'userId',
    'id',
    'is_admin',
    'premium',
    'status',
    '__proto__',
    'constructor',
    'toString',
    '',
    '\u0000',
    'x'.repeat(300),
  ]);
}

/** An own property even for `__proto__`, so JSON.stringify sends it. */
function set(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

const takesText = (schema: JsonSchema): boolean =>
  (schema.type === 'string' && !schema.enum && !schema.format) ||
  (schema.anyOf ?? []).some(takesText) ||
  (schema.type === 'array' && schema.items !== undefined && takesText(schema.items));
