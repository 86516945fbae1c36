// Writes docs/events.md from the event table: `npm run docs:events`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { eventsMarkdown } from './events/event-docs';

const target = path.resolve(__dirname, '../../../docs/events.md');
writeFileSync(target, eventsMarkdown());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
