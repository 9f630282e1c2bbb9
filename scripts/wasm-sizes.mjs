// Ranks a wasm's functions and crates by code size, to find what makes the bundle big. Needs the
// function-name section, so build with names kept first:
//
//   DBMCP_KEEP_WASM_NAMES=1 bash scripts/build.sh
//   node scripts/wasm-sizes.mjs build/index_bg.wasm [top-N] [name-filter]
//
// Prints the sections, then the largest functions and the code size per crate (the first path
// segment of each Rust name; generic code counts under the crate of its outermost path).

import { readLeb } from './wasm-leb.mjs';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const [path, topArg = '40', filter] = process.argv.slice(2);
if (!path) throw new Error('usage: node scripts/wasm-sizes.mjs <file.wasm> [top-N] [filter]');
const bytes = readFileSync(path);
const top = Number(topArg);

const leb = (at) => readLeb(bytes, at);

let importedFunctions = 0;
const bodies = []; // [start, end) of each defined function's body
const names = new Map();
const sections = [];
for (let at = 8; at < bytes.length; ) {
  const id = bytes[at];
  const [size, body] = leb(at + 1);
  const end = body + size;
  let label = String(id);
  if (id === 0) {
    const [length, text] = leb(body);
    label = 'custom:' + bytes.subarray(text, text + length).toString('utf8');
    if (label === 'custom:name') readNames(text + length, end);
  } else if (id === 2) {
    let [count, p] = leb(body);
    for (let i = 0; i < count; i++) {
      for (let s = 0; s < 2; s++) { const [n, q] = leb(p); p = q + n; }
      const kind = bytes[p++];
      if (kind === 0) { importedFunctions++; p = leb(p)[1]; }
      else if (kind === 1) { p++; const flags = bytes[p++]; p = leb(p)[1]; if (flags & 1) p = leb(p)[1]; }
      else if (kind === 2) { const flags = bytes[p++]; p = leb(p)[1]; if (flags & 1) p = leb(p)[1]; }
      else if (kind === 3) { p += 2; }
      else if (kind === 4) { p += 1; p = leb(p)[1]; }
    }
    label = 'import';
  } else if (id === 10) {
    let [count, p] = leb(body);
    for (let i = 0; i < count; i++) { const [n, q] = leb(p); bodies.push([q, q + n]); p = q + n; }
    label = 'code';
  } else if (id === 11) label = 'data';
  sections.push([label, end - at, gzipSync(bytes.subarray(at, end)).length]);
  at = end;
}

function readNames(at, end) {
  while (at < end) {
    const sub = bytes[at];
    const [size, body] = leb(at + 1);
    if (sub === 1) {
      let [count, p] = leb(body);
      for (let i = 0; i < count; i++) {
        const [index, q] = leb(p);
        const [n, r] = leb(q);
        names.set(index, bytes.subarray(r, r + n).toString('utf8'));
        p = r + n;
      }
    }
    at = body + size;
  }
}

const kib = (n) => (n / 1024).toFixed(1).padStart(8);
console.log(`${path}: ${kib(bytes.length)} KiB raw, ${kib(gzipSync(bytes).length)} KiB gzip`);
for (const [label, raw, gz] of sections) console.log(`  section ${label.padEnd(28)} ${kib(raw)} KiB ${kib(gz)} KiB gzip (alone)`);

const functions = bodies.map(([s, e], i) => {
  const name = names.get(importedFunctions + i) ?? `func${importedFunctions + i}`;
  return { name, size: e - s };
}).filter((f) => !filter || f.name.includes(filter));

functions.sort((a, b) => b.size - a.size);
const total = functions.reduce((n, f) => n + f.size, 0);
console.log(`\n${functions.length} functions, ${kib(total)} KiB of code${filter ? ` matching "${filter}"` : ''}; largest:`);
for (const f of functions.slice(0, top)) console.log(`${kib(f.size)} KiB  ${f.name.slice(0, 160)}`);

// Crate of a demangled name: `<a::B as c::D>::f` counts under `a`; `core::ptr::drop_in_place<x::Y>`
// under core (generic glue is worth seeing as such).
function crateOf(name) {
  const m = name.replace(/^_*</, '').match(/^([A-Za-z_][A-Za-z0-9_]*)::/);
  return m ? m[1] : '(other)';
}
const byCrate = new Map();
for (const f of functions) {
  const c = crateOf(f.name);
  const e = byCrate.get(c) ?? { size: 0, count: 0 };
  e.size += f.size; e.count++;
  byCrate.set(c, e);
}
console.log('\nby crate:');
for (const [c, e] of [...byCrate].sort((a, b) => b[1].size - a[1].size).slice(0, top)) {
  console.log(`${kib(e.size)} KiB  ${String(e.count).padStart(5)} fns  ${c}`);
}
