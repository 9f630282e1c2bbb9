// The unsigned LEB128 number at `at` in a wasm file's bytes: [value, offset after it]. Shared by
// the scripts that walk a wasm module's sections (strip-names, wasm-sizes).
export function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}
