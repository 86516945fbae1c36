import { ERROR_DESCRIPTIONS, ERROR_STATUS, type ErrorCode } from '@mm/contract';

/**
 * The list of every error code, generated from the contract (`ERROR_STATUS` and
 * `ERROR_DESCRIPTIONS`): written to docs/errors.md by `npm run docs:errors` and put into the
 * OpenAPI document's description, so both always say the same. Sorted by status, then code.
 */
export function errorCodesTable(): string {
  const codes = (Object.keys(ERROR_STATUS) as ErrorCode[]).sort(
    (a, b) => ERROR_STATUS[a] - ERROR_STATUS[b] || a.localeCompare(b),
  );
  return [
    '| code | HTTP status | meaning |',
    '| --- | --- | --- |',
    ...codes.map(
      (code) =>
        `| \`${code}\` | ${ERROR_STATUS[code]} | ${ERROR_DESCRIPTIONS[code].replaceAll('|', '\\|')} |`,
    ),
  ].join('\n');
}

const ERROR_SHAPE =
  'Every error, over REST and in socket acks, is `{"error": {"code", "message", "details"}}`: ' +
  '`code` is one of the codes below, `message` is for people (it may change), `details` is for ' +
  'code and present only when the code says so. Over REST the HTTP status is the one listed.';

/** docs/errors.md, whole. */
export function errorCodesMarkdown(): string {
  return [
    '# Error codes',
    '',
    '<!-- Generated from packages/contract/src/errors.ts by `npm run docs:errors`; a test',
    '     fails when this file is out of date. Edit the contract, not this file. -->',
    '',
    ERROR_SHAPE,
    '',
    errorCodesTable(),
    '',
  ].join('\n');
}

/** The same list, for the OpenAPI document's description. */
export function errorCodesDescription(): string {
  return `## Errors\n\n${ERROR_SHAPE}\n\n${errorCodesTable()}`;
}
