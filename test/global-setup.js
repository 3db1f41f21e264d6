// Compiles src/ to dist/ once before the suites run (what `npm start` runs): the end-to-end
// tests start the compiled entry point and the CLI as real processes.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  const root = join(__dirname, '..');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
};
