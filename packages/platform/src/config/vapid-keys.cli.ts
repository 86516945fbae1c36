// `npm run push:vapid-keys`: a fresh VAPID key pair for Web Push, as environment lines.
import { generateVapidKeys } from '@mm/core';

const { publicKey, privateKey } = generateVapidKeys();
process.stdout.write(
  [
    '# Web Push (VAPID) keys: keep the private key secret; browsers subscribe with the public one.',
    `VAPID_PUBLIC_KEY=${publicKey}`,
    `VAPID_PRIVATE_KEY=${privateKey}`,
    'VAPID_SUBJECT=mailto:ops@example.com',
    '',
  ].join('\n'),
);
