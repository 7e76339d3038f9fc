// Instantiates the wasm-check module (no imports) and runs its checks:
//   node wasm-check/run.mjs path/to/vivace_wasm_check.wasm
// Prints the report; exits 1 when any check failed.
import { readFileSync } from "node:fs";

const bytes = readFileSync(process.argv[2]);
const { instance } = await WebAssembly.instantiate(bytes, {});
const exports = instance.exports;
const failures = exports.vivace_check();
const report = new TextDecoder().decode(
  new Uint8Array(exports.memory.buffer, exports.vivace_report_ptr(), exports.vivace_report_len()),
);
console.log(report);
process.exit(failures === 0 ? 0 : 1);
