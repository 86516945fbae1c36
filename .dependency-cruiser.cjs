/**
 * The layering, checked by `npm run lint` (docs/design.md §1, packages/core/README.md).
 *
 * Between packages: apps → platform → core → db and contract (the wire); db and contract import
 * nothing of ours; the SDK (client) imports the contract alone and no server imports the SDK;
 * nothing imports back up; apps/embedded alone composes the other two apps.
 * Inside packages/core: the feature folders in rows, each importing only its own folder and the
 * rows below; no cycle between modules or between folders.
 * Tests: @mm/test-support (packages/test-support) serves tests/, load-tests/ and the test/ folders
 * only, and they reach every workspace by its name, never by a relative path.
 */

// The root files every module of the shared row may use: errors, a batch loader, and the ports and
// rules core is given (logger, metrics, rules).
const SHARED_LEAVES = ['batch-loader.ts', 'errors.ts', 'logger.ts', 'metrics.ts', 'rules.ts'];

// packages/core/src's folders, lowest row first. A folder imports its own folder and the rows
// below it, never up and never a sibling of its row.
const CORE_ROWS = [
  ['auth', 'limits', 'realtime', 'text', ...SHARED_LEAVES],
  ['users'],
  ['profiles'],
  ['unlock'],
  ['matches'],
  ['messages', 'photos', 'presence', 'moderation'],
  ['services.ts', 'index.ts'],
];
const core = (names) =>
  `^packages/core/src/(${names.map((n) => n.replace('.', '\\.')).join('|')})(/|$)`;

const coreRowRules = CORE_ROWS.slice(0, -1).flatMap((row, i) => {
  const above = CORE_ROWS.slice(i + 1).flat();
  const siblings = row.filter((name) => !SHARED_LEAVES.includes(name));
  return [
    {
      name: `core-row-${i}-not-up`,
      comment: `packages/core: ${row.join(', ')} must not import a row above (${above.join(', ')}).`,
      severity: 'error',
      from: { path: core(row) },
      to: { path: core(above) },
    },
    ...(siblings.length > 1
      ? [
          {
            name: `core-row-${i}-no-siblings`,
            comment: `packages/core: ${siblings.join(', ')} share a row and do not import one another.`,
            severity: 'error',
            from: { path: core(siblings) },
            to: { path: core(siblings), pathNot: '^packages/core/src/$1(/|$)' },
          },
        ]
      : []),
  ];
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No module reaches itself through its imports.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      comment: 'No folder reaches itself through its imports.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment: 'A module nothing imports and that imports nothing is dead or misplaced.',
      severity: 'error',
      from: {
        orphan: true,
        pathNot: [
          '\\.d\\.ts$',
          '(^|/)[^/]*\\.config\\.[cm]?[jt]s$',
          '\\.test\\.ts$',
          // Loaded by artillery from its scenario file.
          '^load-tests/processor\\.js$',
          // The web demo's service worker: the browser loads it by URL (serviceWorker.register).
          '^apps/web/public/sw\\.js$',
        ],
      },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'Every import resolves (a typo or a missing dependency fails here, not at run time).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'db-imports-nothing-of-ours',
      comment: 'packages/db is the bottom: it imports no other package or app of this repository.',
      severity: 'error',
      from: { path: '^packages/db/src/' },
      to: { path: ['^(apps|packages/(?!db/)[^/]+|tests|load-tests)/', '^@mm/'] },
    },
    {
      name: 'contract-imports-nothing-of-ours',
      comment: 'packages/contract (the wire, published as @mm/contract) stands alone.',
      severity: 'error',
      from: { path: '^packages/contract/src/' },
      to: { path: ['^(apps|packages/(?!contract/)[^/]+|tests|load-tests)/', '^@mm/'] },
    },
    {
      name: 'client-imports-only-the-contract',
      comment: 'packages/client (the SDK, published as @mm/client) builds on @mm/contract alone.',
      severity: 'error',
      from: { path: '^packages/client/src/' },
      to: {
        path: [
          '^(apps|packages/(?!(client|contract)/)[^/]+|tests|load-tests)/',
          '^@mm/(?!contract(/|$))',
        ],
      },
    },
    {
      name: 'servers-do-not-import-the-sdk',
      comment:
        'The servers take the wire from @mm/contract; the SDK (@mm/client) is for their clients, so a server never imports it.',
      severity: 'error',
      from: { path: '^(apps/(api|gateway|embedded)|packages/(core|db|platform))/' },
      to: { path: ['^packages/client/', '^@mm/client(/|$)'] },
    },
    {
      name: 'core-imports-only-db-and-contract',
      comment:
        'packages/core holds the domain: it may use db and contract, never platform or an app.',
      severity: 'error',
      from: { path: '^packages/core/src/' },
      to: {
        path: [
          '^(apps|packages/(?!(core|db|contract)/)[^/]+|tests|load-tests)/',
          '^@mm/(?!(db|contract)(/|$))',
        ],
      },
    },
    {
      name: 'platform-imports-no-app',
      comment: 'packages/platform (process plumbing) may use core, db and contract, never an app.',
      severity: 'error',
      from: { path: '^packages/platform/src/' },
      to: { path: ['^(apps|tests|load-tests)/', '^@mm/(api|gateway|embedded|web)(/|$)'] },
    },
    {
      name: 'test-support-only-in-tests',
      comment:
        '@mm/test-support (packages/test-support) serves the tests and the bench: tests/, load-tests/ and the test/ folders may import it, no production code may.',
      severity: 'error',
      from: {
        pathNot: [
          '^(tests|load-tests)/',
          '^(apps|packages)/[^/]+/test/',
          '^packages/test-support/',
          '\\.test\\.ts$',
        ],
      },
      to: { path: ['^packages/test-support/', '^@mm/test-support(/|$)'] },
    },
    {
      name: 'tests-reach-workspaces-by-name',
      comment:
        'tests/ and load-tests/ reach an app or a package (@mm/test-support included) by its name, never by a relative path.',
      severity: 'error',
      from: { path: '^(tests|load-tests)/' },
      // A name through a workspace symlink is 'aliased' (and 'local'); a relative path is 'local' only.
      to: {
        path: '^(apps|packages)/',
        dependencyTypes: ['local'],
        dependencyTypesNot: ['aliased'],
      },
    },
    {
      name: 'apps-do-not-import-apps',
      comment: 'An app does not import another app; only apps/embedded composes api and gateway.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/src/', pathNot: '^apps/embedded/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'embedded-composes-only-api-and-gateway',
      comment: 'apps/embedded imports the api and gateway apps, not the web client.',
      severity: 'error',
      from: { path: '^apps/embedded/src/' },
      to: { path: '^apps/(?!(embedded|api|gateway)/)' },
    },
    {
      name: 'web-uses-only-the-client',
      comment: 'apps/web (the demo client in the browser) uses the SDK only.',
      severity: 'error',
      from: { path: '^apps/web/src/' },
      to: { path: '^packages/(?!client/)' },
    },
    {
      name: 'no-relative-import-across-packages',
      comment:
        'Reach another workspace through its package name (@mm/...), never by a relative path.',
      severity: 'error',
      from: { path: '^(apps|packages)/([^/]+)/' },
      to: {
        path: '^(apps|packages)/',
        pathNot: '^$1/$2/',
        dependencyTypes: ['local'],
      },
    },
    ...coreRowRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|coverage|\\.turbo|\\.data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['source', 'import', 'require', 'node', 'default'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'],
      mainFields: ['module', 'main', 'types'],
    },
    cache: false,
  },
};
