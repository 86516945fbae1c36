import { z, type ZodObject } from 'zod';
import { clientEvents } from './client-events';
import { eventErrors, RATE_CLASSES, type AnyEventSpec } from './event-table';

/** A schema as JSON Schema, the way a client must send it (`input`) or will receive it. */
function jsonSchema(schema: ZodObject, io: 'input' | 'output'): string {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return ['```json', JSON.stringify(rest, null, 2), '```'].join('\n');
}

function section(spec: AnyEventSpec): string[] {
  const errors = eventErrors(spec);
  return [
    `## \`${spec.event}\``,
    '',
    `${spec.summary}.${spec.description ? ` ${spec.description}` : ''}`,
    '',
    `- Ack: ${spec.ack ? '`{ "ok": true, ...fields below }` or `{ "ok": false, "error" }`' : 'none'}.`,
    `- Rate: \`${spec.rate}\`. ${RATE_CLASSES[spec.rate]}`,
    ...(errors.length > 0 ? [`- Errors: ${errors.map((code) => `\`${code}\``).join(', ')}.`] : []),
    '',
    'Payload:',
    '',
    jsonSchema(spec.payload, 'input'),
    '',
    ...(spec.ack ? ['Ack fields:', '', jsonSchema(spec.ack, 'output'), ''] : []),
  ];
}

/** docs/events.md, whole: generated from the event table by `npm run docs:events`. */
export function eventsMarkdown(specs: readonly AnyEventSpec[] = clientEvents): string {
  return [
    '# Socket events',
    '',
    '<!-- Generated from apps/gateway/src/events/client-events.ts by `npm run docs:events`; a',
    '     test fails when this file is out of date. Edit the event table, not this file. -->',
    '',
    'What a client may send over Socket.IO once connected (`auth: { token }` in the handshake).',
    "Each payload is checked against its schema before anything runs. An acked event's answer is",
    '`{ "ok": true, ... }` or `{ "ok": false, "error": { "code", "message", "details" } }` with the',
    'codes of [errors.md](errors.md); an event sent without an ack callback is still carried out.',
    'An event not listed here is acked `UNKNOWN_EVENT` when the client waits for an answer.',
    '',
    ...specs.map((spec) => `- \`${spec.event}\`: ${spec.summary}.`),
    '',
    ...specs.flatMap(section),
  ].join('\n');
}
