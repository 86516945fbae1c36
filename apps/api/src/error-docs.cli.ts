// Writes docs/errors.md from the contract: `npm run docs:errors`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { errorCodesMarkdown } from './http/error-docs';

const target = path.resolve(__dirname, '../../../docs/errors.md');
writeFileSync(target, errorCodesMarkdown());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
