import {
  DataSet,
  englishDataset,
  englishRecommendedTransformers,
  parseRawPattern,
  RegExpMatcher,
} from 'obscenity';
import { AppError } from '../errors';
import { normalizeForMatching } from './normalize';

/** `off`; `mask`: shown to readers with the words hidden; `refuse`: not accepted from the writer. */
export type ContentFilterMode = 'off' | 'mask' | 'refuse';

export interface ContentFilterOptions {
  mode: ContentFilterMode;
  /** The deployment's own words, beside obscenity's maintained English list. */
  words: readonly string[];
}

/** What a masked word reads as. */
export const FILTER_MASK = '***';

/** Characters obscenity's pattern syntax gives a meaning to: escaped in a deployment's words. */
const PATTERN_SYNTAX = /[[\]?|\\]/g;

/**
 * The word filter for messages, display names and bios (docs/design.md §3.14). The words come
 * from `obscenity` (a maintained English list with its variants and the exceptions that keep
 * "assassin" or "Scunthorpe" clean) plus the deployment's own; the text is matched after
 * `normalizeForMatching`, the same folding contact masking uses, so fullwidth letters, look-alike
 * Cyrillic or zero-width joiners do not hide a word. obscenity's own transformers then fold case
 * and leetspeak on top.
 */
export class ContentFilter {
  private readonly matcher: RegExpMatcher | undefined;

  constructor(readonly options: ContentFilterOptions) {
    if (options.mode === 'off') return;
    const words = new DataSet<{ originalWord: string }>().addAll(englishDataset);
    for (const word of options.words) {
      const escaped = word.trim().toLowerCase().replace(PATTERN_SYNTAX, '\\$&');
      if (!escaped) continue;
      words.addPhrase((phrase) =>
        phrase.setMetadata({ originalWord: word }).addPattern(parseRawPattern(escaped)),
      );
    }
    this.matcher = new RegExpMatcher({ ...words.build(), ...englishRecommendedTransformers });
  }

  get mode(): ContentFilterMode {
    return this.options.mode;
  }

  /** Where the text holds a filtered word: ranges of the original, in order, not overlapping. */
  private find(text: string): { start: number; end: number }[] {
    if (!this.matcher) return [];
    const normalized = normalizeForMatching(text);
    const found = this.matcher
      .getAllMatches(normalized.text, true)
      .map((m) => normalized.originalRange(m.startIndex, m.endIndex + 1));
    const merged: { start: number; end: number }[] = [];
    for (const range of found) {
      const last = merged[merged.length - 1];
      if (last && range.start <= last.end) last.end = Math.max(last.end, range.end);
      else merged.push({ ...range });
    }
    return merged;
  }

  /** The text as a reader sees it: in `mask` mode each filtered word is `***`; else as written. */
  forReader(text: string): string;
  forReader(text: string | null): string | null;
  forReader(text: string | null): string | null {
    if (text === null || this.options.mode !== 'mask') return text;
    let shown = '';
    let at = 0;
    for (const { start, end } of this.find(text)) {
      shown += text.slice(at, start) + FILTER_MASK;
      at = end;
    }
    return shown + text.slice(at);
  }

  /** In `refuse` mode, throws CONTENT_REFUSED when the text holds a filtered word. */
  check(field: string, text: string | null | undefined): void {
    if (this.options.mode !== 'refuse' || !text) return;
    if (this.find(text).length > 0) {
      throw new AppError(
        'CONTENT_REFUSED',
        `The ${field.replace('_', ' ')} holds a word we do not accept.`,
        {
          field,
        },
      );
    }
  }
}
