#!/usr/bin/env node
// Entry point of the `hisbridge` command: TypeScript sources run through tsx (channel files are
// TypeScript too, so the engine loads them at run time without a build step).
require('tsx/cjs');
const { main } = require('../engine/cli/main.ts');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${error && error.message ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
