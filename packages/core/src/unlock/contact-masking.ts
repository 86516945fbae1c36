/**
 * Contact details in messages stay hidden until the match is fully unlocked (docs/design.md §3.5):
 * e-mail addresses, phone numbers, social handles and links to messaging or social sites.
 *
 * Own patterns rather than a library: masking must over-match on purpose. Phone libraries
 * (libphonenumber) accept only numbers valid for a country's numbering plan, so a number written
 * with an unknown prefix or odd grouping would pass through; here any run of 7+ digits with the
 * usual separators counts. A false positive costs a hidden "1234567"; a miss leaks a contact.
 */

export const MASK = '[contact hidden]';

const EMAIL =
  /[\p{L}\p{N}._%+-]+(?:@|\s*[([]at[)\]]\s*)[\p{L}\p{N}-]+(?:(?:\.|\s*[([]dot[)\]]\s*)[\p{L}\p{N}-]+)+/giu;

/** 7 or more digits, with spaces, dots, dashes, slashes or brackets between them, + in front. */
const PHONE = /(?:\+|\b00)?\(?\d(?:[\s().\-/]{0,3}\d){6,}/g;

/** Links to where people reach each other. */
const SOCIAL_LINK =
  /\b(?:https?:\/\/)?(?:www\.)?(?:instagram\.com|instagr\.am|snapchat\.com|tiktok\.com|t\.me|telegram\.me|wa\.me|whatsapp\.com|facebook\.com|fb\.me|fb\.com|m\.me|twitter\.com|x\.com|linkedin\.com|discord\.gg|discord\.com|signal\.me|onlyfans\.com)\/?[^\s]*/giu;

/** "@handle", and "insta: handle" / "snap - handle" / "my tg is handle" style mentions. */
const HANDLE = /(?<![\p{L}\p{N}])@[\p{L}\p{N}._]{2,}/gu;
const NAMED_HANDLE =
  /\b(?:insta(?:gram)?|ig|snap(?:chat)?|sc|tiktok|tg|telegram|whatsapp|wa|discord|signal|twitter|fb|facebook|kik|wechat|line)\b(?:\s*(?:is|:|-|=|at)\s*|\s+)@?[\p{L}\p{N}._-]{3,}/giu;

const PATTERNS = [EMAIL, SOCIAL_LINK, NAMED_HANDLE, HANDLE, PHONE];

/** The body with every contact detail replaced by MASK. */
export function maskContacts(body: string): string {
  let masked = body;
  for (const pattern of PATTERNS) masked = masked.replace(pattern, MASK);
  return masked;
}
