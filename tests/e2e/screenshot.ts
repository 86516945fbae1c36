// `npm run screenshot`: the README's pictures of the demo, taken in headless Chromium against the
// embedded default (a fresh PGlite folder). Two users match, talk until the partner's profile is at
// level 3 (interests, bio, photo blurred 25 %), and one is typing; both views are saved in docs/.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startApp } from '@mm/test-support/processes';
import { buildWebClient, launchChromium, openPage } from './browser';
import {
  findMatch,
  openFirstMatch,
  send,
  setUpProfile,
  signIn,
  storedMessages,
  unlockLevel,
} from './demo';

const DOCS = path.resolve(__dirname, '../../docs');

const small = [
  'Hi there!',
  'Hey :) how is your week going?',
  'Busy but good. Any plans for the weekend?',
  'A jazz gig on Saturday, maybe a hike on Sunday',
  'No way, I love both',
];

async function main(): Promise<void> {
  buildWebClient();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mm-screenshot-'));
  const service = await startApp(
    'embedded',
    {
      DATABASE_URL: '',
      REDIS_URL: '',
      JWT_SECRET: '',
      DEV_TOKENS: '',
      DATA_DIR: dataDir,
      MESSAGE_RATE_LIMIT: '10000',
    },
    60_000,
  );
  const browser = await launchChromium();
  try {
    const ann = await openPage(browser, service.url, { width: 1280, height: 800 });
    const bob = await openPage(browser, service.url, { width: 390, height: 844 });
    await signIn(ann.page, 1);
    await setUpProfile(ann.page, {
      name: 'Ann',
      birthDate: '1994-05-17',
      city: 'Lisbon',
      interests: 'jazz, hiking, film',
      bio: 'Trumpet on Sundays, trails on Saturdays.',
      photoHue: 200,
    });
    await signIn(bob.page, 2);
    await setUpProfile(bob.page, {
      name: 'Bob',
      birthDate: '1991-11-02',
      city: 'Porto',
      interests: 'jazz, cooking, hiking',
      bio: 'I make a decent risotto and a terrible espresso.',
      photoHue: 20,
    });
    await findMatch(ann.page);
    await openFirstMatch(bob.page);

    // Talk until level 3 (100 messages): small talk, then the last lines the picture shows.
    for (let n = 0; n < 94; n++) {
      const page = n % 2 === 0 ? ann.page : bob.page;
      await send(page, `${small[n % small.length]} (${n + 1})`);
    }
    const last: Array<[Page, string]> = [
      [ann.page, 'Which club do you go to?'],
      [bob.page, 'The little one by the river, Thursdays are the best'],
      [ann.page, 'Then I owe you a coffee there'],
      [bob.page, 'Deal! A terrible espresso, I promise'],
      [ann.page, 'Ha, you still have not told me your name'],
      [bob.page, 'Fifty more messages and you will see it ;)'],
    ];
    for (const [page, text] of last) await send(page, text);
    await storedMessages(ann.page, last.at(-1)![1]).waitFor();
    await unlockLevel(ann.page, 3).waitFor();
    await unlockLevel(bob.page, 3).waitFor();
    await ann.page.locator('.avatar img').waitFor();
    await bob.page.locator('.avatar img').waitFor();
    await bob.page.getByLabel('Message', { exact: true }).pressSequentially('Sounds good');
    await ann.page.getByText('is typing…').waitFor();
    await bob.page.getByLabel('Message', { exact: true }).fill('');

    await ann.page.screenshot({ path: path.join(DOCS, 'demo.png') });
    await bob.page.screenshot({ path: path.join(DOCS, 'demo-phone.png') });
    console.log(`saved ${path.join(DOCS, 'demo.png')} and demo-phone.png`);
  } finally {
    await browser.close();
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
