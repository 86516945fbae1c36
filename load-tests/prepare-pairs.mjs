#!/usr/bin/env node
// Makes matched user pairs for the Socket.IO chat scenario and writes pairs.csv (token,match_id),
// one row per side. Artillery reads it as a payload, so each virtual user connects with its token
// in the handshake (the socket connects before any flow step could fetch one).
//
//   node prepare-pairs.mjs [target=http://localhost:3000] [pairs=100]
//
// It uses POST /api/auth/dev-token: run it against a deployment with DEV_TOKENS=true (the embedded
// default, the compose stack, a staging cluster), never production.
import { writeFileSync } from 'node:fs';

const target = process.argv[2] ?? 'http://localhost:3000';
const pairs = Number(process.argv[3] ?? 100);
const firstId = 1_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1_000;

async function call(method, path, body, token) {
  const response = await fetch(new URL(path, target), {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token && { authorization: `Bearer ${token}` }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function makeUser(id, city) {
  const { token } = await call('POST', '/api/auth/dev-token', { user_id: id });
  const profile = { display_name: `load ${id}`, interests: ['music'], ...(city && { city }) };
  await call('PUT', '/api/users/me', profile, token);
  return token;
}

const rows = ['token,match_id'];
for (let i = 0; i < pairs; i++) {
  const a = firstId + 2 * i;
  // B lives in a city of its own and A looks only there, so A meets B, never a user an earlier run
  // left unmatched on the same target.
  const city = `pairs-${a}`;
  const [tokenA, tokenB] = await Promise.all([makeUser(a), makeUser(a + 1, city)]);
  const { match } = await call('POST', '/api/mystery/find-match', { user_id: a, city }, tokenA);
  // Matching is the service's choice: keep the pair only when it paired these two.
  if (match.partner_id === a + 1) rows.push(`${tokenA},${match.id}`, `${tokenB},${match.id}`);
}
if (rows.length === 1) throw new Error(`no pair was matched with its own partner on ${target}`);
writeFileSync(new URL('./pairs.csv', import.meta.url), rows.join('\n') + '\n');
console.log(`wrote ${rows.length - 1} sockets (${(rows.length - 1) / 2} pairs) to pairs.csv`);
