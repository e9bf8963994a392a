module.exports = {
  skipFiles: ["test/"],
  istanbulReporter: ["json-summary", "text", "html"],
  mocha: { timeout: 300000 },
};
