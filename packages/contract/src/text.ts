import { z } from 'zod';

/**
 * Characters no free-text field may hold, whatever its length or meaning:
 * - U+0000: PostgreSQL `text` and `jsonb` cannot store it (one such message used to fail every
 *   other message written in the same batch);
 * - unpaired UTF-16 surrogates: UTF-8 cannot encode them, so they would be stored silently changed
 *   (as U+FFFD) from what the sender was acknowledged;
 * - the other C0 controls but tab, line feed and carriage return: no text a person writes holds
 *   them, JSON must escape them, and raw they are terminal escape sequences and record breaks in
 *   every log, export and moderation tool that shows the text. Tab and the line breaks are ordinary
 *   whitespace in a message or a bio.
 * With the `u` flag a paired surrogate is one astral code point (an emoji passes) and only a lone
 * one falls in D800–DFFF.
 */
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF]/u;

export const UNSTORABLE_TEXT_MESSAGE =
  'must not contain NUL, control characters other than tab and line breaks, or unpaired surrogates';

/** True when PostgreSQL text and JSON can hold the value as it is (see `UNSTORABLE`). */
export const isStorableText = (value: string): boolean => !UNSTORABLE.test(value);

/** The schema refusing what `isStorableText` refuses; the error names the field. */
export const storable = <S extends z.ZodType<string>>(schema: S): S =>
  schema.refine(isStorableText, UNSTORABLE_TEXT_MESSAGE) as S;

/**
 * Every free-text field a client sends starts here (`text.trim().min(1).max(50)`), so no schema can
 * forget the characters the database or JSON cannot hold.
 */
export const text = storable(z.string());
