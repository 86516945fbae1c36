import { LATIN_LOOK_ALIKES } from './latin-look-alikes';

/**
 * The text a rule matches against, made from what a person wrote: rules that look for things in
 * messages (contact masking today, content filtering later) should not be beaten by writing the
 * same thing with other code points. Per character, in order:
 *
 * 1. Characters that show nothing are dropped: format characters (`\p{Cf}`: zero-width space and
 *    joiners, bidi marks, soft hyphen, word joiner, BOM), the rest of Unicode's default-ignorable
 *    set (variation selectors, Hangul fillers, tag characters) and the combining keycap U+20E3, so
 *    `5️⃣` is `5` and `5\u200B5` is `55`.
 * 2. NFKC: fullwidth `５＠ｅ．ｃｏｍ`, mathematical `𝟓𝐚`, circled `①ⓐ`, superscripts and the like
 *    become their plain letters, digits and signs.
 * 3. Every decimal digit (`\p{Nd}`: Arabic-Indic, Devanagari, Bengali, Thai, ...) becomes its ASCII
 *    digit, by its value.
 * 4. The Cyrillic, Greek and other letters that look like Latin ones become those (see
 *    `latin-look-alikes.ts`), and the few stops NFKC leaves alone (`。`) become `.`.
 *
 * The result is for matching only, never for display: it keeps no case and no script. Each
 * character of it remembers the range of the original it came from, so a match can be cut out of
 * the original text (`originalRange`), whatever was dropped or widened inside it.
 */
export interface NormalizedText {
  /** What rules match against. */
  readonly text: string;
  /**
   * The range of the original that `text.slice(start, end)` was made from: from the start of the
   * original character behind `text[start]` to the end of the one behind `text[end - 1]`, with
   * the invisible characters that follow it (so a trailing keycap or variation selector goes with
   * its digit). An empty range maps to the position where it stands.
   */
  originalRange(start: number, end: number): { start: number; end: number };
}

const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}\u20E3]/u;
const COMBINING_MARK = /\p{M}/u;
const DECIMAL_DIGIT = /\p{Nd}/u;
const NON_ASCII = /[^\p{ASCII}]/u;

/** Stops and signs NFKC keeps but which read as ASCII ones. */
const EXTRA_SIGNS: ReadonlyMap<string, string> = new Map([
  ['\u3002', '.'], // 。 ideographic full stop (NFKC also brings halfwidth ｡ and vertical ︒ here)
  ['\u{1F51F}', '10'], // 🔟 keycap ten
]);

export function normalizeForMatching(original: string): NormalizedText {
  // Plain ASCII is already what every rule expects: nothing to drop, fold or map.
  if (!NON_ASCII.test(original)) {
    return {
      text: original,
      originalRange: (start, end) => ({ start, end: Math.max(start, end) }),
    };
  }

  let text = '';
  /** For each UTF-16 unit of `text`: where its original character starts and ends. */
  const starts: number[] = [];
  const ends: number[] = [];
  let at = 0;
  while (at < original.length) {
    // One unit: a character with the combining marks and invisible characters right after it.
    // NFKC runs on the whole unit, so a letter and its accent compose as they would in the text.
    const unitStart = at;
    let visible = '';
    let visibleCodePoints = 0;
    for (let first = true; at < original.length; first = false) {
      const codePoint = original.codePointAt(at)!;
      const kind = kindOf(codePoint);
      if (kind === INVISIBLE_CHAR) {
        at += codePoint > 0xffff ? 2 : 1;
      } else if (first || (visibleCodePoints > 0 && kind === MARK_CHAR)) {
        visible += String.fromCodePoint(codePoint);
        visibleCodePoints++;
        at += codePoint > 0xffff ? 2 : 1;
      } else {
        break;
      }
    }
    const folded =
      visibleCodePoints === 1
        ? foldedCodePoint(visible.codePointAt(0)!)
        : fold(visible.normalize('NFKC'));
    text += folded;
    for (let unit = 0; unit < folded.length; unit++) {
      starts.push(unitStart);
      ends.push(at);
    }
  }

  return {
    text,
    originalRange(start, end) {
      if (end <= start) {
        const position = start < starts.length ? starts[start]! : original.length;
        return { start: position, end: position };
      }
      return { start: starts[start]!, end: ends[end - 1]! };
    },
  };
}

const OTHER_CHAR = 0;
const INVISIBLE_CHAR = 1;
const MARK_CHAR = 2;

/**
 * Messages repeat a small set of characters, and every history page normalises up to hundreds of
 * them: what each code point is and what it folds to are kept, in maps cleared when they grow
 * past a bound (a message may hold thousands of distinct code points on purpose).
 */
const CACHE_BOUND = 20_000;
const kinds = new Map<number, number>();
const foldedCodePoints = new Map<number, string>();

function kindOf(codePoint: number): number {
  // Below the combining diacritics, only the soft hyphen is invisible and nothing is a mark.
  if (codePoint < 0x300) return codePoint === 0xad ? INVISIBLE_CHAR : OTHER_CHAR;
  let kind = kinds.get(codePoint);
  if (kind === undefined) {
    const char = String.fromCodePoint(codePoint);
    kind = INVISIBLE.test(char)
      ? INVISIBLE_CHAR
      : COMBINING_MARK.test(char)
        ? MARK_CHAR
        : OTHER_CHAR;
    if (kinds.size >= CACHE_BOUND) kinds.clear();
    kinds.set(codePoint, kind);
  }
  return kind;
}

function foldedCodePoint(codePoint: number): string {
  if (codePoint < 0x80) return String.fromCharCode(codePoint);
  let folded = foldedCodePoints.get(codePoint);
  if (folded === undefined) {
    folded = fold(String.fromCodePoint(codePoint).normalize('NFKC'));
    if (foldedCodePoints.size >= CACHE_BOUND) foldedCodePoints.clear();
    foldedCodePoints.set(codePoint, folded);
  }
  return folded;
}

/** Steps 3 and 4 on text already NFKC-normalised. */
function fold(text: string): string {
  let folded = '';
  for (const char of text) {
    const codePoint = char.codePointAt(0)!;
    if (codePoint > 0x7f && DECIMAL_DIGIT.test(char)) folded += String(decimalValue(codePoint));
    else folded += LATIN_LOOK_ALIKES.get(char) ?? EXTRA_SIGNS.get(char) ?? char;
  }
  return folded;
}

/**
 * Unicode encodes every set of decimal digits as ten consecutive code points, 0 to 9, and never
 * starts a set in the middle of another; sets may follow each other directly (the mathematical
 * digits are five sets in a row). So a digit's value is its distance from the start of its run of
 * digits, modulo ten.
 */
function decimalValue(codePoint: number): number {
  let runStart = codePoint;
  while (DECIMAL_DIGIT.test(String.fromCodePoint(runStart - 1))) runStart--;
  return (codePoint - runStart) % 10;
}
