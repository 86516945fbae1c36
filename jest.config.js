// `npm test` runs every workspace's tests in one jest run, so CI reads one set of results.
module.exports = {
  // Applies to hooks too. System tests start real processes; on a busy 2-core CI machine a start
  // takes seconds. (Set here: in a multi-project run the projects' own value is not used.)
  testTimeout: 60_000,
  projects: [
    '<rootDir>/apps/*/jest.config.js',
    '<rootDir>/packages/*/jest.config.js',
    '<rootDir>/tests/jest.config.js',
  ],
};
