import { normalizeForMatching } from '../text/normalize';

/**
 * Contact details in chat messages stay hidden until the match is fully unlocked (docs/design.md):
 * e-mail addresses, phone numbers, social handles and links to messaging or social sites.
 *
 * Own patterns rather than a library: masking must over-match on purpose. Phone libraries
 * (libphonenumber) accept only numbers valid for a country's numbering plan, so a number written
 * with an unknown prefix or odd grouping would pass through; here any run of 7+ digits with the
 * usual separators counts. A false positive costs a hidden "1234567"; a miss leaks a contact.
 *
 * The patterns run on `normalizeForMatching`'s text, so fullwidth or Arabic-Indic digits,
 * zero-width characters, keycaps and Cyrillic look-alike letters read as what they stand for; what
 * a match covers is then masked in the text as written.
 */

export const MASK = '[contact hidden]';

/**
 * Common top-level domains: the end an address needs when it is spelled out ("… at … dot com").
 * Those that are also English words (`it`, `be`, `me`, `co`, `mail`, `site`) are left out, or
 * "I'm at work.It was long" would read as an address.
 */
const TLDS =
  'com|net|org|info|biz|edu|gov|io|app|dev|xyz|' +
  'uk|de|fr|es|nl|ch|se|dk|fi|pl|pt|ru|ua|cz|eu|ca|au|nz|br|mx|ar|jp|cn|kr|tr|gr|ie';
const END_OF_WORD = String.raw`(?![\p{L}\p{N}])`;

/** A dot as written to get past a filter: `.`, `[.]`, `(dot)`, `{dot}`, ` dot `. */
const DOT = String.raw`(?:\.|\s*[([{<]\s*(?:dot|\.)\s*[)\]}>]\s*|\s+dot\s+)`;
/** ` . ` with spaces: only before a known top-level domain, or "you at home. Com…" would match. */
const SPACED_DOT_BEFORE_TLD = String.raw`\s*\.\s*(?=(?:${TLDS})${END_OF_WORD})`;
/** `@`, ` @ `, `(at)`, `[@]`. */
const AT = String.raw`(?:\s*@\s*|\s*[([{<]\s*(?:at|@)\s*[)\]}>]\s*)`;
const LOCAL_PART = String.raw`(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]+`;
const LABEL = String.raw`[\p{L}\p{N}-]+`;

const EMAIL = new RegExp(
  LOCAL_PART +
    '(?:' +
    // anna@example.com, anna (at) example [.] com, anna @ example . com
    `${AT}${LABEL}(?:(?:${DOT}|${SPACED_DOT_BEFORE_TLD})${LABEL})+` +
    // anna at example dot com: the plain word "at" needs a real top-level domain at the end,
    // or "meet at 7.30" and "I'm at work.See you" would be addresses.
    `|\\s+at\\s+${LABEL}(?:${DOT}${LABEL})*${DOT}(?:${TLDS})${END_OF_WORD}` +
    ')',
  'giu',
);

/** What may stand between the digits of a phone number: spaces, dots, dashes of any kind, ... */
const PHONE_SEPARATOR = String.raw`[\s.\-_/\\|*~+()[\]{}'"·•\p{Pd}]`;
/**
 * A comma with no space joins digits too ("555,123,4567"), unless it groups thousands: when every
 * group after it has three digits ("1,000,000", "3,500 / 4,000"), it is an amount (looked at up to
 * nine groups on; a longer chain is masked). With a space it never joins: "2010, 2011 and 2015" is
 * a sentence.
 */
const JOINING_COMMA = String.raw`,(?!(?:\d{3},){0,8}\d{3}(?!\d|,\d))`;
/** 7 or more digits, with up to five separators or a joining comma between each two, + or 00 in front. */
const PHONE = new RegExp(
  String.raw`(?:\+\s*|\b00)?[([]?\d(?:(?:${PHONE_SEPARATOR}{0,5}|${JOINING_COMMA})\d){6,}`,
  'gu',
);

/** Where people reach each other; each dot may be written as any `DOT`. */
const LINK_DOMAINS = [
  'instagram.com',
  'instagr.am',
  'snapchat.com',
  'tiktok.com',
  't.me',
  'telegram.me',
  'wa.me',
  'whatsapp.com',
  'facebook.com',
  'fb.me',
  'fb.com',
  'm.me',
  'twitter.com',
  'x.com',
  'linkedin.com',
  'discord.gg',
  'discord.com',
  'signal.me',
  'onlyfans.com',
];
const SOCIAL_LINK = new RegExp(
  String.raw`\b(?:https?:\/\/)?(?:www${DOT})?(?:${LINK_DOMAINS.map((domain) => domain.split('.').join(DOT)).join('|')})${END_OF_WORD}\/?[^\s]*`,
  'giu',
);

/** "@handle" and "@ handle". */
const HANDLE = /(?<![\p{L}\p{N}])@\s{0,2}[\p{L}\p{N}._]{2,}/gu;
/**
 * "insta: handle" / "snap - handle" / "my tg is handle" / "insta annak" style mentions. Names that
 * are also everyday words need more than a space before the handle: "snap back" and "discord in the
 * team" are not contacts, "my snap is annak" is; "line" and "signal" need a sign ("line: annak"), since "the
 * line is long" and "line at the bakery" are ordinary sentences.
 */
const CONNECTOR = String.raw`\s*(?:is|:|-|=|at)\s*`;
const SIGN = String.raw`\s*[:=-]\s*`;
const NAMED_HANDLE = new RegExp(
  String.raw`\b(?:` +
    String.raw`(?:insta(?:gram)?|ig|snapchat|sc|tiktok|tg|telegram|whatsapp|wa|twitter|fb|facebook|wechat)\b(?:${CONNECTOR}|\s+)` +
    String.raw`|(?:snap|discord|kik)\b${CONNECTOR}` +
    String.raw`|(?:line|signal)\b${SIGN}` +
    String.raw`)@?[\p{L}\p{N}._-]{3,}`,
  'giu',
);

const PATTERNS = [EMAIL, SOCIAL_LINK, NAMED_HANDLE, HANDLE, PHONE];

/** The body with every contact detail replaced by MASK; overlapping finds become one MASK. */
export function maskContacts(body: string): string {
  const normalized = normalizeForMatching(body);
  const found: { start: number; end: number }[] = [];
  for (const pattern of PATTERNS) {
    for (const match of normalized.text.matchAll(pattern)) {
      found.push(normalized.originalRange(match.index!, match.index! + match[0].length));
    }
  }
  if (found.length === 0) return body;

  found.sort((a, b) => a.start - b.start);
  let masked = '';
  let shownUpTo = 0;
  for (const { start, end } of found) {
    if (end <= shownUpTo) continue; // inside the previous mask
    if (start >= shownUpTo) masked += body.slice(shownUpTo, start) + MASK;
    shownUpTo = end;
  }
  return masked + body.slice(shownUpTo);
}
