#!/usr/bin/env node
/**
 * Makes the npm `solc` package (solcjs, wasm) answer like a native solc for Foundry's forge, which cannot
 * download a compiler here (foundry.toml: `offline = true`, `solc = "scripts/forge/solc"`).
 *
 *   solc --version                       prints the version block forge parses ("Version: 0.8.28+commit…")
 *   solc [options] --standard-json [-]   reads Standard JSON from stdin, writes the output JSON to stdout
 *
 * Options forge passes beside --standard-json (--base-path, --include-path, --allow-paths) only widen where
 * imports may be read from; the sources forge sends carry their content, and any other import is read from
 * the base path or an include path. Anything else is refused with a one-line error.
 */
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const solc = require("solc");

function fail(message) {
  process.stderr.write(`solc-wrapper: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { version: false, standardJson: false, basePath: process.cwd(), includePaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => inline ?? argv[++i] ?? fail(`${flag} needs a value`);
    if (flag === "--version" || flag === "-v") opts.version = true;
    else if (flag === "--standard-json") opts.standardJson = true;
    else if (flag === "--base-path") opts.basePath = value();
    else if (flag === "--include-path") opts.includePaths.push(value());
    else if (flag === "--allow-paths") value();
    else if (flag === "-") continue;
    else fail(`unsupported argument ${arg} (only --version and --standard-json are emulated)`);
  }
  return opts;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  // solcjs reports e.g. "0.8.28+commit.7893614a.Emscripten.clang"; forge wants a native-looking build.
  const version = solc.version().replace(".Emscripten.clang", ".Linux.g++");
  if (opts.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${version}\n`);
    return;
  }
  if (!opts.standardJson) fail("expected --version or --standard-json");
  const input = fs.readFileSync(0, "utf8");
  const roots = [opts.basePath, ...opts.includePaths];
  const findImports = (importPath) => {
    for (const root of roots) {
      const file = path.resolve(root, importPath);
      if (fs.existsSync(file)) return { contents: fs.readFileSync(file, "utf8") };
    }
    return { error: `File not found: ${importPath} (looked under ${roots.join(", ")})` };
  };
  process.stdout.write(solc.compile(input, { import: findImports }));
}

main();
