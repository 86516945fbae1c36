import type { Locator, Page } from 'playwright-core';

/**
 * The demo driven as a person would: by labels, roles and visible text, so the tests also check
 * that every control is reachable by its accessible name.
 */

export interface DemoProfile {
  name: string;
  city: string;
  birthDate: string;
  interests: string;
  bio?: string;
  /** Uploads a drawn portrait in this hue as the profile photo. */
  photoHue?: number;
}

export async function signIn(page: Page, userId: number): Promise<void> {
  await page.getByLabel('Demo user id').fill(String(userId));
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function setUpProfile(page: Page, profile: DemoProfile): Promise<void> {
  await page.getByRole('heading', { name: 'Set up your profile' }).waitFor();
  await page.getByLabel('Display name').fill(profile.name);
  await page.getByLabel('Birth date').fill(profile.birthDate);
  await page.getByLabel('City').fill(profile.city);
  await page.getByLabel('Interests').fill(profile.interests);
  if (profile.bio) await page.getByLabel('About you').fill(profile.bio);
  if (profile.photoHue !== undefined) {
    await page.getByLabel('Photo').setInputFiles({
      name: 'me.png',
      mimeType: 'image/png',
      buffer: await drawPortrait(page, profile.photoHue),
    });
  }
  await page.getByRole('button', { name: 'Save profile' }).click();
  await page.getByRole('heading', { name: 'Matches' }).waitFor();
}

export const connectionBadge = (page: Page): Locator => page.locator('.topbar [role="status"]');

export async function waitForConnection(page: Page, state: string): Promise<void> {
  await page.locator(`.topbar [role="status"][data-state="${state}"]`).waitFor();
}

export async function findMatch(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Find a match' }).click();
  await page.getByRole('log', { name: 'Messages' }).waitFor();
}

/** An active match in the list (an ended one reads "Ended (...)" instead of its level). */
export const activeMatches = (page: Page): Locator =>
  page.locator('.match-item').filter({ hasText: /^.*Level \d/ });

/** Opens the first active match once it appears (the partner learns of it in real time). */
export async function openFirstMatch(page: Page): Promise<void> {
  await activeMatches(page).first().click();
  await page.getByRole('log', { name: 'Messages' }).waitFor();
}

export async function send(page: Page, text: string): Promise<void> {
  const input = page.getByLabel('Message', { exact: true });
  await input.fill(text);
  await input.press('Enter');
}

/**
 * The two take turns until the chat holds `upTo` messages ("Message number n"): an unlock level
 * needs each side to write a quarter of its messages, so one side alone would unlock nothing.
 */
export async function talkUntil(first: Page, second: Page, upTo: number): Promise<void> {
  const sent = (await messageBodies(first)).length;
  for (let n = sent + 1; n <= upTo; n++) await send(n % 2 ? first : second, `Message number ${n}`);
}

/** Stored messages with exactly this text (pending ones left out). */
export const storedMessages = (page: Page, text: string): Locator =>
  page.locator('.message[data-seq]').filter({ has: page.getByText(text, { exact: true }) });

export const messageBodies = async (page: Page): Promise<string[]> =>
  page.locator('.message[data-seq] .body').allTextContents();

export const unlockLevel = (page: Page, level: number): Locator =>
  page.locator(`.partner[data-level="${level}"]`);

/** A made-up portrait drawn by the browser itself: no image file is needed. */
export async function drawPortrait(page: Page, hue: number): Promise<Buffer> {
  const dataUrl: string = await page.evaluate((h) => {
    // Runs in the page (the tests' type library has no DOM).
    const canvas = (globalThis as any).document.createElement('canvas');
    canvas.width = canvas.height = 400;
    const g = canvas.getContext('2d');
    const sky = g.createLinearGradient(0, 0, 400, 400);
    sky.addColorStop(0, `hsl(${h}, 70%, 75%)`);
    sky.addColorStop(1, `hsl(${h + 60}, 60%, 45%)`);
    g.fillStyle = sky;
    g.fillRect(0, 0, 400, 400);
    g.fillStyle = `hsl(${h + 180}, 35%, 30%)`;
    g.beginPath();
    g.ellipse(200, 400, 150, 130, 0, Math.PI, 0);
    g.fill();
    g.fillStyle = 'hsl(30, 45%, 70%)';
    g.beginPath();
    g.arc(200, 180, 85, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = `hsl(${h + 200}, 40%, 20%)`;
    g.beginPath();
    g.arc(200, 150, 88, Math.PI, 0);
    g.fill();
    return canvas.toDataURL('image/png');
  }, hue);
  return Buffer.from(dataUrl.split(',')[1]!, 'base64');
}

/** The stored messages' seqs in the open chat, in the order shown. */
export const messageSeqs = async (page: Page): Promise<number[]> =>
  (await page.evaluate(
    `[...document.querySelectorAll('.message[data-seq]')].map((item) => Number(item.dataset.seq))`,
  )) as number[];

/** Counts the page's requests whose URL matches, from now until `stop()`. */
export function countRequests(page: Page, pattern: RegExp): { count(): number; stop(): void } {
  let count = 0;
  const listener = (request: { url(): string }) => {
    if (pattern.test(request.url())) count++;
  };
  page.on('request', listener);
  return { count: () => count, stop: () => page.off('request', listener) };
}

/** Reloads the page (the session survives in sessionStorage) and opens the first active match. */
export async function reloadIntoChat(page: Page): Promise<void> {
  await page.reload();
  await waitForConnection(page, 'connected');
  await openFirstMatch(page);
}

/** Whether the element's box lies wholly inside the viewport. */
export async function inViewport(page: Page, locator: Locator): Promise<boolean> {
  const box = await locator.boundingBox();
  const viewport = page.viewportSize();
  if (!box || !viewport) return false;
  return (
    box.y >= 0 &&
    box.x >= 0 &&
    box.y + box.height <= viewport.height &&
    box.x + box.width <= viewport.width
  );
}

/** Waits until the newest stored message is wholly visible inside the scrolling message list. */
export async function waitForNewestInView(page: Page): Promise<void> {
  await page.waitForFunction(`(() => {
    const list = document.querySelector('.messages');
    const last = [...(list?.querySelectorAll('.message[data-seq]') ?? [])].at(-1);
    if (!list || !last) return false;
    const outer = list.getBoundingClientRect();
    const inner = last.getBoundingClientRect();
    return inner.top >= outer.top - 1 && inner.bottom <= outer.bottom + 1;
  })()`);
}
