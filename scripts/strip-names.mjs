// Drops the `name` custom section (function names for stack traces) from the built wasm: about
// 80 KiB of the gzip bundle. worker-build keeps it on purpose (wasm-opt --debuginfo), and
// stripping symbols in the Cargo profile would also drop `target_features`, which wasm-bindgen
// reads to pick its reference-types glue; so names go here, after both. A panic's stack trace
// then shows wasm-function[index] instead of Rust names. DBMCP_KEEP_WASM_NAMES=1 keeps them.
//
//   node scripts/strip-names.mjs build/index_bg.wasm

import { readFileSync, writeFileSync } from 'node:fs';
import { readLeb } from './wasm-leb.mjs';

const path = process.argv[2];
if (!path) throw new Error('usage: node scripts/strip-names.mjs <file.wasm>');
if (process.env.DBMCP_KEEP_WASM_NAMES === '1') process.exit(0);

const bytes = readFileSync(path);
if (bytes.readUInt32LE(0) !== 0x6d736100) throw new Error(`${path} is not a wasm module`);

const leb = (at) => readLeb(bytes, at);

const kept = [bytes.subarray(0, 8)];
let dropped = 0;
for (let at = 8; at < bytes.length; ) {
  const start = at;
  const id = bytes[at];
  const [size, body] = leb(at + 1);
  const end = body + size;
  if (end > bytes.length) throw new Error(`${path}: a section runs past the end of the file`);
  let name = null;
  if (id === 0) {
    const [length, text] = leb(body);
    name = bytes.subarray(text, text + length).toString('utf8');
  }
  // `producers` and `target_features` (toolchain notes wasm-bindgen has already read) go too.
  if (name === 'name' || name === 'producers' || name === 'target_features') dropped += end - start;
  else kept.push(bytes.subarray(start, end));
  at = end;
}
writeFileSync(path, Buffer.concat(kept));
console.log(`strip-names: ${path}: ${dropped} bytes of function names and toolchain notes dropped`);
