// `npm test` runs every workspace's tests in one jest run, so CI reads one set of results.
module.exports = {
  projects: [
    '<rootDir>/apps/*/jest.config.js',
    '<rootDir>/packages/*/jest.config.js',
    '<rootDir>/tests/jest.config.js',
  ],
};
