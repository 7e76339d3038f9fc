// Instantiates the wasm-check module (no imports) and runs its checks:
//   node wasm-check/run.mjs path/to/vivace_wasm_check.wasm [--bench]
// Prints the report; exits 1 when any check failed. With --bench, also
// times on scalar and simd128 (medians of 7 runs, set-up subtracted): a
// 1,000-strip mixer per 128-frame block; vivace-vectorize's pixel stages
// over a 512 × 512 picture; whole binary and colour traces of it.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const bytes = readFileSync(process.argv[2]);
const { instance } = await WebAssembly.instantiate(bytes, {});
const exports = instance.exports;
const failures = exports.vivace_check();
const report = new TextDecoder().decode(
  new Uint8Array(exports.memory.buffer, exports.vivace_report_ptr(), exports.vivace_report_len()),
);
console.log(report);

if (process.argv.includes("--bench")) {
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  // Runs `body(reps)` (set-up included) and returns ms per rep.
  const per = (body, reps) => {
    const clock = (n) => {
      const start = performance.now();
      if (Number.isNaN(body(n))) throw new Error("benchmark body failed");
      return performance.now() - start;
    };
    clock(reps); // warm-up
    const runs = [];
    for (let i = 0; i < 7; i++) runs.push((clock(reps) - clock(0)) / reps);
    return median(runs);
  };
  const strips = 1000, blocks = 100;
  for (const [name, simd] of [["scalar", 0], ["simd128", 1]]) {
    const ms = per((n) => exports.vivace_mixer_blocks(simd, strips, n), blocks);
    console.log(`${strips}-strip mixer, 128-frame block, ${name}: ${ms.toFixed(3)} ms`);
  }
  const stages = ["luma", "threshold", "OKLab", "assign to 16"];
  for (const [stage, name] of stages.entries()) {
    const [scalar, simd] = [0, 1].map((s) => per((n) => exports.vivace_pixel_stage(stage, s, n), 20));
    console.log(`512x512 ${name}: scalar ${scalar.toFixed(3)} ms, simd128 ${simd.toFixed(3)} ms (${(scalar / simd).toFixed(1)}x)`);
  }
  for (const [mode, name] of ["binary", "colour"].entries()) {
    const [scalar, simd] = [0, 1].map((s) => per((n) => exports.vivace_trace(mode, s, n), 3));
    console.log(`512x512 ${name} trace: scalar pixel stages ${scalar.toFixed(2)} ms, simd128 ${simd.toFixed(2)} ms`);
  }
}
process.exit(failures === 0 ? 0 : 1);
