// node lsjson-check.js LSJSON_OUTPUT LOCAL_DIR: compares `rclone lsjson -R --hash --files-only` with a
// local tree (paths, sizes, MD5s). Prints what differs; prints nothing when all agree.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const [listing, dir] = process.argv.slice(2);
let entries;
try {
  entries = JSON.parse(fs.readFileSync(listing, 'utf8'));
} catch (err) {
  console.log(`lsjson output is not JSON: ${err.message}`);
  process.exit(0);
}

function walk(d, rel = '') {
  const out = [];
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(path.join(d, e.name), r));
    else out.push(r);
  }
  return out;
}

const problems = [];
const remote = new Map(entries.map((e) => [e.Path, e]));
for (const rel of walk(dir)) {
  const e = remote.get(rel);
  if (!e) {
    problems.push(`${rel} missing`);
    continue;
  }
  remote.delete(rel);
  const buf = fs.readFileSync(path.join(dir, rel));
  if (e.Size !== buf.length) problems.push(`${rel} Size ${e.Size}, want ${buf.length}`);
  const md5 = crypto.createHash('md5').update(buf).digest('hex');
  const got = e.Hashes && (e.Hashes.md5 ?? e.Hashes.MD5);
  if (got !== md5) problems.push(`${rel} md5 ${got}, want ${md5}`);
}
for (const rel of remote.keys()) problems.push(`unexpected ${rel}`);
if (problems.length) console.log(problems.join('; '));
