// Prints the source files of one folder for binding.gyp, one per line, so that
// adding a .cc file needs no edit of binding.gyp. An empty or missing folder
// prints nothing, where `ls` would fail the build.
const fs = require('node:fs');
const path = require('node:path');

const [dir, suffix] = process.argv.slice(2);
if (!dir || !suffix) {
  console.error('usage: node tools/list-sources.cjs DIR SUFFIX');
  process.exit(2);
}
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(suffix)).sort() : [];
for (const file of files) console.log(path.posix.join(dir, file));
