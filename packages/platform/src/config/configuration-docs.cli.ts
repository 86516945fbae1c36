// Writes docs/configuration.md from the env schema: `npm run docs:config`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { configurationMarkdown } from './configuration-docs';

const target = path.resolve(__dirname, '../../../../docs/configuration.md');
writeFileSync(target, configurationMarkdown());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
