import { normalizeForMatching } from '../src/text/normalize';

describe('text normalisation for matching', () => {
  it.each([
    ['plain ASCII stays as it is', 'Call me at 7, ok?', 'Call me at 7, ok?'],
    ['fullwidth letters, digits and signs', 'ａｎｎａ＠ｅｘ．ｃｏｍ ５５', 'anna@ex.com 55'],
    ['mathematical and circled forms', '𝐢𝐧𝐬𝐭𝐚 𝟓𝟟 ①②', 'insta 57 12'],
    [
      'Arabic-Indic, Persian, Devanagari, Bengali and Thai digits',
      '٠١٢ ۳۴۵ ६७ ৮ ๙',
      '012 345 67 8 9',
    ],
    ['keycaps with and without a variation selector', '1️⃣2⃣🔟', '1210'],
    [
      'zero-width and other invisible characters',
      'a\u200Bb\u200Cc\u200Dd\u2060e\uFEFFf\u00ADg\u202Eh',
      'abcdefgh',
    ],
    [
      'Cyrillic and Greek look-alike letters',
      'іnstаgrаm ѕnарсhаt ΤΕLΕGRΑΜ',
      'instagram snapchat TELEGRAM',
    ],
    ['the ideographic full stop', 'example。com', 'example.com'],
    ['a letter and its combining accent compose', 'cafe\u0301', 'café'],
  ])('when the text has %s, then rules see it in plain form', (_what, original, expected) => {
    expect(normalizeForMatching(original).text).toBe(expected);
  });

  it('when a range of the normalised text is asked for, then it maps to the original characters it came from', () => {
    const original = 'x ５\u200B５️⃣5 y';
    const normalized = normalizeForMatching(original);
    expect(normalized.text).toBe('x 555 y');

    const digits = normalized.text.indexOf('555');
    const { start, end } = normalized.originalRange(digits, digits + 3);
    // From the fullwidth five to the plain one, with the zero-width space, the keycap's variation
    // selector and U+20E3 inside.
    expect(original.slice(start, end)).toBe('５\u200B５️⃣5');
    expect(original.slice(0, start)).toBe('x ');
    expect(original.slice(end)).toBe(' y');
  });

  it('when one original character becomes several, then any part of them maps to the whole character', () => {
    const original = 'a㏵b'; // NFKC: 22日
    const normalized = normalizeForMatching(original);
    expect(normalized.text).toBe('a22日b');
    expect(normalized.originalRange(2, 3)).toEqual({ start: 1, end: 2 });
  });

  it('when an empty range is asked for, then it maps to the position where it stands', () => {
    const normalized = normalizeForMatching('ab\u200Bc');
    expect(normalized.originalRange(2, 2)).toEqual({ start: 3, end: 3 });
    expect(normalized.originalRange(3, 3)).toEqual({ start: 4, end: 4 });
  });
});
