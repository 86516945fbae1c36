import { MASK, maskContacts } from '../src/unlock/contact-masking';

/**
 * The ways people disguise a contact to get it past the filter (issue 12, item 6), one table per
 * kind. The plain forms are in unlock.test.ts, with the views that apply the masking.
 */
const DISGUISES: Record<string, [body: string, masked: string][]> = {
  'digits in other Unicode forms': [
    ['call ５５５ １２３ ４５６７ tonight', `call ${MASK} tonight`], // fullwidth
    ['رقمي ٠٥٥٥١٢٣٤٥٦٧', `رقمي ${MASK}`], // Arabic-Indic
    ['شماره ۰۹۱۲ ۳۴۵ ۶۷۸۹', `شماره ${MASK}`], // extended Arabic-Indic (Persian)
    ['मेरा नंबर ५५५-१२३-४५६७ है', `मेरा नंबर ${MASK} है`], // Devanagari
    ['আমার নম্বর ০১৭১১ ২৩৪৫৬৭', `আমার নম্বর ${MASK}`], // Bengali
    ['𝟓𝟓𝟓 𝟏𝟐𝟑 𝟒𝟓𝟔𝟕 call me', `${MASK} call me`], // mathematical bold
    ['𝟝𝟝𝟝𝟙𝟚𝟛𝟜𝟝𝟞𝟟', MASK], // mathematical double-struck
    ['5️⃣5️⃣5️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣ ok', `${MASK} ok`], // keycaps, each with its variation selector
    ['5⃣5⃣5⃣1⃣2⃣3⃣4⃣', MASK], // keycaps without one
    ['⑤⑤⑤①②③④⑤⑥⑦', MASK], // circled
  ],
  'zero-width characters between digits': [
    ['555\u200B123\u200B4567 ok', `${MASK} ok`], // zero-width space
    ['5\u200C5\u200D5\u20601\uFEFF2\u00AD3\u200E4567', MASK], // ZWNJ, ZWJ, word joiner, BOM, soft hyphen, LRM
    ['5\u200B5\u200B5\u200B 1\u200B2\u200B3\u200B 4\u200B5\u200B6\u200B7', MASK],
  ],
  'wider separators': [
    ['555 -- 123 -- 4567', MASK],
    ['555 — 123 — 4567', MASK], // em dashes
    ['555_123_4567', MASK],
    ['555 | 123 | 4567', MASK],
    ['555 . . 123 . . 4567', MASK],
    ['555,123,4567', MASK],
    ['+44 ~ 20 ~ 7946 ~ 0958', MASK],
  ],
  'spelled-out "at" and "dot"': [
    ['write to anna at example dot com', `write to ${MASK}`],
    ['anna.k at example.com', MASK],
    ['anna at mail dot example dot co dot uk', MASK],
    ['anna AT example DOT com please', `${MASK} please`],
  ],
  'fullwidth ＠ and ．': [
    ['anna＠example．com', MASK],
    ['ａｎｎａ＠ｅｘａｍｐｌｅ．ｃｏｍ!', `${MASK}!`],
    ['anna﹫example。com', MASK],
  ],
  'spaced @ handle': [
    ['find me @ anna_k92', `find me ${MASK}`],
    ['anna @ example . com', MASK],
    ['anna @ example.com', MASK],
  ],
  'look-alike letters in platform names': [
    ['my іnstаgrаm is annak', `my ${MASK}`], // Cyrillic і and а
    ['ѕnарсhаt: annak', MASK], // Cyrillic ѕ, а, р, с
    ['tеlеgrаm @annak', MASK], // Cyrillic е and а
    ['whаtѕарр - annak92', MASK], // Cyrillic а, ѕ, р
    ['ιnstagram: annak', MASK], // Greek iota
    ['𝐢𝐧𝐬𝐭𝐚 annak', MASK], // mathematical bold
    ['ｓｎａｐ: annak', MASK], // fullwidth
    ['іnstаgrаm.com/annak', MASK],
    ['tе\u200Blеgrаm is annak', MASK], // and a zero-width space inside
  ],
  'bracketed and spelled dots': [
    ['anna@example[.]com', MASK],
    ['anna [at] example (.) com', MASK],
    ['anna {at} example {dot} com', MASK],
    ['instagram[.]com/annak', MASK],
    ['instagram (dot) com/annak', MASK],
    ['t(.)me/annak', MASK],
    ['wa dot me/15551234567', MASK],
  ],
};

/** Ordinary messages, several with numbers or the words the rules look for: left as written. */
const ORDINARY = [
  'see you at 8',
  "I'm 25 and have 2 cats",
  'meet at 7.30 by the fountain',
  "I'm at work.See you later",
  "I'm at work.It was long. We were at home.Co-workers came",
  'free 18:00-20:00 or 10:00 - 12:00 on Sunday',
  'I lived there in 2010, 2011 and 2015',
  'it cost 1,250,000 rubles, can you believe it',
  'rent went from 3,500 / 4,000 to 4,000, 4,500 and 5,000',
  'look at that dot over there',
  'we met at the station. Com-pletely by chance',
  'Привет! Как дела? Мне 25, у меня 2 кошки', // Cyrillic, not disguised Latin
  'عمري ٢٥ ولدي ٣ قطط', // Arabic-Indic, but only two numbers
  'Ｉ ａｍ ２５, see you at ８ 🙂',
  'coffee ☕ at 9️⃣ tomorrow?',
  'my favourite line from the film',
  'there was a long line at the bakery and the line is still long',
  "I'll snap back at him, no discord in the team",
  'no signal in the mountains',
  'I can’t. Me neither',
];

describe('contact masking against disguises', () => {
  describe.each(Object.entries(DISGUISES))('%s', (_kind, cases) => {
    it.each(cases)('when a message says %j, then the contact is masked', (body, masked) => {
      expect(maskContacts(body)).toBe(masked);
    });
  });

  it.each(ORDINARY)('when a message says %j, then it is left as written', (body) => {
    expect(maskContacts(body)).toBe(body);
  });

  it('when a disguised contact sits inside a sentence, then exactly its characters are masked and the rest shows as written', () => {
    const before = 'Ｈｉ! 🙂 my number: ';
    const contact = '５５５\u200B１２３\u200B４５６７'; // fullwidth, with zero-width spaces
    const after = ' ☎️ and mail anna＠example．com…';
    expect(maskContacts(before + contact + after)).toBe(`${before}${MASK} ☎️ and mail ${MASK}…`);
  });

  it('when a keycap contact ends the message, then its last keycap and variation selector go with it', () => {
    expect(maskContacts('call 5️⃣5️⃣5️⃣1️⃣2️⃣3️⃣4️⃣')).toBe(`call ${MASK}`);
  });
});
