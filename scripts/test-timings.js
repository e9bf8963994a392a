"use strict";
/**
 * Mocha reporter for `TEST_TIMINGS=<file> npm test`: the spec reporter's output, plus the wall time of each
 * test file (its top-level suites, hooks included) written to <file> as JSON, slowest first, and a top-15
 * table at the end. Used to see where the suite's time goes (CI budget), not by any gate.
 */
const fs = require("node:fs");
const Mocha = require("mocha");

class TimingReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const started = new Map();
    const totals = new Map();
    runner.on("suite", (s) => {
      if (s.parent && s.parent.root && s.file) started.set(s, Date.now());
    });
    runner.on("suite end", (s) => {
      const t = started.get(s);
      if (t === undefined) return;
      totals.set(s.file, (totals.get(s.file) ?? 0) + (Date.now() - t));
    });
    runner.once("end", () => {
      const rows = [...totals].map(([file, ms]) => ({ file: file.replace(process.cwd() + "/", ""), ms }));
      rows.sort((a, b) => b.ms - a.ms);
      if (process.env.TEST_TIMINGS) fs.writeFileSync(process.env.TEST_TIMINGS, JSON.stringify(rows, null, 1) + "\n");
      const sum = rows.reduce((a, r) => a + r.ms, 0);
      console.log(`\ntest timings: ${rows.length} files, ${(sum / 1000).toFixed(1)} s in suites; slowest:`);
      for (const r of rows.slice(0, 15)) console.log(`  ${(r.ms / 1000).toFixed(1).padStart(7)} s  ${r.file}`);
    });
  }
}
module.exports = TimingReporter;
