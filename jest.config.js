// Tests are compiled by tsc into dist/ first (npm test does this), so jest runs
// plain ES modules with no transform.
export default {
  testEnvironment: 'node',
  transform: {},
  roots: ['<rootDir>/dist/test'],
  testMatch: ['**/*.test.js'],
  testTimeout: 120000,
};
