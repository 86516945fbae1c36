// The ESM entry of the packed SDK: `import ... from '@mm/client'`.
import * as sdk from '@mm/client';
import converse from './converse.cjs';

const [url, first, second] = process.argv.slice(2);
await converse(sdk, url, Number(first), Number(second), 'mjs');
