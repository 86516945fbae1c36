// Shared jest settings: TypeScript through SWC (no type-check at test time: `npm run typecheck` does
// that), and the `source` export condition so workspace packages resolve to their src/ without a build.
// kysely and jose ship ESM only; Node loads them with require(esm), jest's module system cannot, so
// SWC turns them into CommonJS like our own sources. The published packages (@mm/contract, @mm/client) write
// their relative imports with `.js`, as Node's ESM needs; from source that name is the `.ts` file.
const path = require('node:path');

const swc = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
];

module.exports = (dir) => ({
  displayName: path.relative(__dirname, dir) || 'root',
  rootDir: dir,
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['source', 'node', 'require', 'default'] },
  transform: { '^.+\\.ts$': swc, '/node_modules/(kysely|jose)/.+\\.js$': swc },
  moduleNameMapper: { '^(\\.{1,2}/.+)\\.js$': '$1' },
  transformIgnorePatterns: ['/node_modules/(?!(kysely|jose)/)'],
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 30_000,
});
