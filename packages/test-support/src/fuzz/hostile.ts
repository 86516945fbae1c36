import type { Random } from './random';

/**
 * Values an attacker sends where the contract expects something else: text that Postgres, JSON or
 * a renderer handles badly, numbers at the edges, and values of every other JSON type.
 */

/** Strings that have broken text handling somewhere: each is sent as is, and inside normal text. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0000'.repeat(64),
  '\ud800', // a lone high surrogate
  'x\udfffy', // a lone low surrogate
  '\udc00\ud800', // surrogates in the wrong order
  '\u202egnp.exe', // right-to-left override
  '\u200b\u200c\u200d\u2060\ufeff', // zero-width characters
  '\u{1F468}\u200d\u{1F469}\u200d\u{1F467}\u200d\u{1F466}', // an emoji ZWJ sequence
  '\u{1F3F3}\uFE0F\u200D\u{1F308}',
  'e\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301', // stacked combining marks
  'Z\u0351\u0360\u0362\u0338\u0335\u0334'.repeat(30),
  '\uffff\ufffe\ufffd',
  '\u0001\u0002\u0007\u001b[31m\u007f',
  '\r\n\r\nX-Injected: 1',
  '\\',
  '"\'`;--',
  "' OR '1'='1",
  '%00%ff%',
  '../../../../etc/passwd',
  '<script>alert(1)</script>',
  '{{7*7}}${7*7}',
  '__proto__',
  'constructor',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '0x10',
  ' 12 ',
  'true',
  'null',
  '\u00a0\u2028\u2029',
  '\u{10FFFF}',
  'ＡＢＣ１２３＠ｅｘａｍｐｌｅ．ｃｏｍ',
];

/** Numbers at the edges of every range the contract names, and the ones JSON cannot hold exactly. */
export const EDGE_NUMBERS: readonly number[] = [
  0,
  -1,
  1,
  -0,
  0.5,
  1.5,
  -1.5,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 63,
  -(2 ** 53),
  1e308,
  5e-324,
  Number.MAX_VALUE,
];

/** Strings that look like numbers to a lenient parser. */
export const NUMBERISH_STRINGS: readonly string[] = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e3',
  '0x1f',
  '0b11',
  '0o7',
  ' 7 ',
  '07',
  '1.0',
  '1.5',
  '+1',
  '-1',
  '9007199254740993',
  '99999999999999999999999999',
  '1_000',
  '١٢٣',
  '１２３',
  '',
];

/** A string of `length` characters made of `unit`, cut at a character boundary. */
export function huge(unit: string, length: number): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/** A hostile string: one of the list, one hidden inside ordinary text, or a huge one. */
export function hostileString(random: Random): string {
  return random.weighted<() => string>([
    // NUL first: Postgres text cannot hold it, so it tests every path down to the database.
    [2, () => random.pick(['\u0000', `hi\u0000there`, 'a\u0000'.repeat(50)])],
    [6, () => random.pick(HOSTILE_STRINGS)],
    [3, () => `hello ${random.pick(HOSTILE_STRINGS)} world`],
    [
      1,
      () =>
        huge(random.pick(['a', 'é', '\u{1F600}', '\u0000', 'e\u0301', ' ']), hugeLength(random)),
    ],
  ])();
}

/** Lengths just past each limit the contract names, and far past them. */
function hugeLength(random: Random): number {
  return random.pick([41, 51, 65, 101, 201, 501, 2001, 4001, 10_000, 60_000, 150_000]);
}

/** Any JSON value other than what the contract asks for, including deep and odd shapes. */
export function wrongJson(random: Random): unknown {
  return random.weighted<() => unknown>([
    [3, () => hostileString(random)],
    [3, () => random.pick(EDGE_NUMBERS)],
    [2, () => random.pick(NUMBERISH_STRINGS)],
    [2, () => null],
    [2, () => random.pick([true, false])],
    [2, () => []],
    [1, () => [random.pick(EDGE_NUMBERS), hostileString(random)]],
    [2, () => ({})],
    [1, () => JSON.parse('{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}')],
    [1, () => nested(random.pick([10, 100, 1000]))],
    [1, () => Array.from({ length: random.pick([100, 5000]) }, (_, i) => i)],
  ])();
}

/** `{a:{a:{...}}}` this many levels deep. */
export function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}
