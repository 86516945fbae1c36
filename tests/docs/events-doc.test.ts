import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import { eventsMarkdown } from '@mm/gateway';

const DOC = path.resolve(__dirname, '../../docs/events.md');

describe('the socket event documentation', () => {
  it('when docs/events.md is read, then it is what `npm run docs:events` generates from the event table', async () => {
    const options = await prettier.resolveConfig(DOC);
    const generated = await prettier.format(eventsMarkdown(), { ...options, filepath: DOC });
    // Out of date? Run `npm run docs:events`.
    expect(readFileSync(DOC, 'utf8')).toBe(generated);
  });
});
