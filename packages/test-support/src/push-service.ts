import { execFileSync } from 'node:child_process';
import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  hkdfSync,
  randomBytes,
  verify,
  type ECDH,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A push service on a loopback address, for tests: what a browser vendor's push service does with a
 * Web Push request, checked the way it and the device would. It speaks HTTPS with a certificate the
 * test made (trusted by the sender only through `agent` in-process, or `NODE_EXTRA_CA_CERTS=caFile`
 * for a spawned process), checks the VAPID JWT (RFC 8292: ES256, `aud` the endpoint's origin, `sub`,
 * `exp` within 24 h) against the key it expects, and decrypts the aes128gcm payload (RFC 8291) with
 * the subscription's private key and auth secret, which the test holds as the device would.
 */

/** A device's side of a subscription: what it registers, and the keys only it has. */
export interface TestDevice {
  id: string;
  subscription: { endpoint: string; keys: { p256dh: string; auth: string } };
  ecdh: ECDH;
  authSecret: Buffer;
}

/** One push as the device received it. */
export interface Delivery {
  deviceId: string;
  topic: string | undefined;
  ttl: string | undefined;
  urgency: string | undefined;
  /** The decrypted payload, parsed as JSON. */
  payload: any;
  /** What the push service answered (201: accepted); undefined while held. */
  status: number | undefined;
}

/** How the service answers a device's pushes: a status, or never (held until `release`). */
export type Answer = number | 'hold';

export interface LocalPushService {
  origin: string;
  /** The CA certificate (PEM) to trust, as a file for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** An agent trusting the CA, for a sender in the test's own process. */
  agent: Agent;
  deliveries: Delivery[];
  /** A request that failed the checks (bad JWT, undecryptable): the test should see none. */
  rejected: string[];
  device(): TestDevice;
  /** How pushes to `deviceId` are answered from now on (201 unless said). */
  answer(deviceId: string, answer: Answer): void;
  close(): Promise<void>;
}

const b64 = (buffer: Buffer) => buffer.toString('base64url');

/** A self-signed certificate for 127.0.0.1 (P-256), made by the openssl CLI in a temp dir. */
function selfSignedCertificate(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1',
    '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' }); // prettier-ignore
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/**
 * Checks `Authorization: vapid t=<jwt>, k=<key>`: the key is the one expected, the JWT is signed by
 * it (ES256) for this origin, names a subject and expires within a day. Throws what is wrong.
 */
export function checkVapid(header: string | undefined, origin: string, publicKey: string): void {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!match) throw new Error(`no vapid authorization: ${header}`);
  const [, token, key] = match as unknown as [string, string, string];
  if (key !== publicKey) throw new Error('signed with another VAPID key');
  const [head, body, signature] = token.split('.') as [string, string, string];
  const point = Buffer.from(key, 'base64url');
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    x: b64(point.subarray(1, 33)),
    y: b64(point.subarray(33)),
  };
  const signed = verify(
    'sha256',
    Buffer.from(`${head}.${body}`),
    { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  if (!signed) throw new Error('VAPID JWT signature does not verify');
  if (JSON.parse(Buffer.from(head, 'base64url').toString()).alg !== 'ES256') {
    throw new Error('VAPID JWT is not ES256');
  }
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
  const now = Date.now() / 1000;
  if (claims.aud !== origin) throw new Error(`VAPID aud ${claims.aud}, expected ${origin}`);
  if (!/^(mailto:|https:)/.test(claims.sub ?? '')) throw new Error(`VAPID sub ${claims.sub}`);
  if (!(claims.exp > now && claims.exp <= now + 24 * 3600 + 60)) {
    throw new Error(`VAPID exp ${claims.exp}`);
  }
}

/**
 * Decrypts an aes128gcm Web Push body (RFC 8291 section 3.4, RFC 8188) as the device does: the header
 * (salt, record size, the sender's ephemeral key), ECDH with the device's key, the auth secret
 * mixed in, then the content key and nonce; one record, padding stripped after its 0x02 delimiter.
 */
export function decryptPush(body: Buffer, ecdh: ECDH, authSecret: Buffer): Buffer {
  const salt = body.subarray(0, 16);
  const keyLength = body.readUInt8(20);
  const senderKey = body.subarray(21, 21 + keyLength);
  const record = body.subarray(21 + keyLength);
  const shared = ecdh.computeSecret(senderKey);
  const info = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), senderKey]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, authSecret, info, 32));
  const derive = (label: string, length: number) =>
    Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from(`Content-Encoding: ${label}\0`), length));
  const decipher = createDecipheriv('aes-128-gcm', derive('aes128gcm', 16), derive('nonce', 12));
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([
    decipher.update(record.subarray(0, record.length - 16)),
    decipher.final(),
  ]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('no last-record delimiter');
  return padded.subarray(0, end);
}

/** Starts the push service; `vapidPublicKey` is the key the sender must sign with. */
export async function startLocalPushService(vapidPublicKey: string): Promise<LocalPushService> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mm-push-'));
  const { key, cert, certFile } = selfSignedCertificate(dir);
  const devices = new Map<string, TestDevice>();
  const answers = new Map<string, Answer>();
  const held: ServerResponse[] = [];
  const deliveries: Delivery[] = [];
  const rejected: string[] = [];
  let origin = '';

  const server: Server = createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const deviceId = /^\/push\/([\w-]+)$/.exec(req.url ?? '')?.[1] ?? '';
      const device = devices.get(deviceId);
      try {
        if (req.method !== 'POST' || !device) throw new Error(`unknown ${req.method} ${req.url}`);
        checkVapid(req.headers.authorization, origin, vapidPublicKey);
        if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error('not aes128gcm');
        const plain = decryptPush(Buffer.concat(chunks), device.ecdh, device.authSecret);
        const delivery: Delivery = {
          deviceId,
          topic: header(req.headers.topic),
          ttl: header(req.headers.ttl),
          urgency: header(req.headers.urgency),
          payload: JSON.parse(plain.toString('utf8')),
          status: undefined,
        };
        deliveries.push(delivery);
        const answer = answers.get(deviceId) ?? 201;
        if (answer === 'hold') {
          held.push(res);
          return;
        }
        delivery.status = answer;
        res.writeHead(answer).end();
      } catch (error) {
        rejected.push(String(error));
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const caFile = certFile; // self-signed: the certificate is its own CA
  const agent = new Agent({ ca: cert });

  return {
    origin,
    caFile,
    agent,
    deliveries,
    rejected,
    device() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const authSecret = randomBytes(16);
      const id = randomBytes(6).toString('hex');
      const device: TestDevice = {
        id,
        ecdh,
        authSecret,
        subscription: {
          endpoint: `${origin}/push/${id}`,
          keys: { p256dh: b64(ecdh.getPublicKey()), auth: b64(authSecret) },
        },
      };
      devices.set(id, device);
      return device;
    },
    answer(deviceId, answer) {
      answers.set(deviceId, answer);
    },
    async close() {
      agent.destroy();
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const header = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value.join(',') : value;
