// The channel strip on the GPU: one invocation per strip runs its frames in
// order (the filters and the compressor are recursive in time), writing
// its stereo output per frame; later passes sum the strips into the bus.
//
// Each strip's parameters and state are one record of 60 floats (see
// gpu/mod.rs for the layout); the record is read into registers, updated
// there, and written back once. Everything is indexed by constants (three
// named bands, no arrays): a dynamically indexed array would live in
// local memory, which on a real GPU puts a memory round trip on every
// frame's recursion.

struct Params {
    strips: u32,
    row: u32,        // floats per input row ([strip][side] rows from the slice's first frame)
    _pad: u32,
    count: u32,      // frames in this slice
    bus_offset: u32, // where this slice starts in the bus
    bus_len: u32,    // frames per bus side
    zero: u32,       // always 0; see `rounded`
    chunk: u32,      // strips per partial bus sum
}

const RECORD: u32 = 60u;
const COEF: u32 = 0u;      // [band][5]
const DELTA: u32 = 15u;    // [band][5]
const STATE: u32 = 30u;    // [band][side][2]
const COMP: u32 = 42u;     // threshold, slope, half knee, knee scale, attack, release, makeup
const ENVELOPE: u32 = 49u;
const GAIN: u32 = 50u;     // [side]
const GAIN_DELTA: u32 = 52u;
const MONO: u32 = 54u;
const PEAK: u32 = 55u;     // [side]
const SUM_SQUARES: u32 = 57u;
const FLAGS: u32 = 59u;    // bits: run band 0-2, ramp band 3-5, compressor 6, gain ramp 7

const LEVEL_FLOOR: f32 = 1e-30;
const ENVELOPE_CEILING: f32 = -1e-20;
const ANTI_DENORMAL: f32 = 1e-20;
// 20·log10(2) and log2(10)/20.
const DB_PER_OCTAVE: f32 = 6.020599913279624;
const OCTAVES_PER_DB: f32 = 0.16609640474436813;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> records: array<f32>;
@group(0) @binding(2) var<storage, read> input: array<f32>;
@group(0) @binding(3) var<storage, read_write> strip_out: array<f32>;

fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * 64u + lid;
}

// A product rounded on its own. WGSL lets the shader compiler fuse a
// multiply and an add into one FMA, which rounds once instead of twice;
// the CPU kernels never fuse, and a low-frequency filter amplifies that
// difference past the backends' tolerance (seen on an NVIDIA H100). An
// exclusive-or with a zero the compiler cannot see keeps the product a
// product.
fn rounded(p: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(p) ^ params.zero);
}

// One band: b0, b1 − a1·b0, b2 − a2·b0, a1 / a2, their per-frame ramp, and the
// filter state (left s1, s2, right s1, s2).
struct Band {
    c: vec4<f32>,
    a2: f32,
    dc: vec4<f32>,
    da2: f32,
    s: vec4<f32>,
}

fn load_band(base: u32, band: u32) -> Band {
    let c = base + COEF + band * 5u;
    let d = base + DELTA + band * 5u;
    let s = base + STATE + band * 4u;
    return Band(
        vec4<f32>(records[c], records[c + 1u], records[c + 2u], records[c + 3u]),
        records[c + 4u],
        vec4<f32>(records[d], records[d + 1u], records[d + 2u], records[d + 3u]),
        records[d + 4u],
        vec4<f32>(records[s], records[s + 1u], records[s + 2u], records[s + 3u]),
    );
}

fn store_band(base: u32, band: u32, b: Band) {
    let c = base + COEF + band * 5u;
    let s = base + STATE + band * 4u;
    records[c] = b.c.x;
    records[c + 1u] = b.c.y;
    records[c + 2u] = b.c.z;
    records[c + 3u] = b.c.w;
    records[c + 4u] = b.a2;
    records[s] = b.s.x;
    records[s + 1u] = b.s.y;
    records[s + 2u] = b.s.z;
    records[s + 3u] = b.s.w;
}

// The reassociated TDF-II step, as tdf2_step in biquad.rs (c holds b0,
// b1 − a1·b0, b2 − a2·b0, a1): (y, s1', s2').
fn tdf2(c: vec4<f32>, a2: f32, s: vec2<f32>, x: f32) -> vec3<f32> {
    let y = rounded(c.x * x) + s.x;
    let s1 = (rounded(c.y * x) + s.y) - rounded(c.w * s.x);
    let s2 = (rounded(c.z * x) + ANTI_DENORMAL) - rounded(a2 * s.x);
    return vec3<f32>(y, s1, s2);
}

fn band_step(b: ptr<function, Band>, x: vec2<f32>, ramp: bool) -> vec2<f32> {
    if ramp {
        (*b).c += (*b).dc;
        (*b).a2 += (*b).da2;
    }
    let l = tdf2((*b).c, (*b).a2, (*b).s.xy, x.x);
    let r = tdf2((*b).c, (*b).a2, (*b).s.zw, x.y);
    (*b).s = vec4<f32>(l.y, l.z, r.y, r.z);
    return vec2<f32>(l.x, r.x);
}

@compute @workgroup_size(64)
fn strips(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let strip = flat_index(wid, nwg, lid);
    if strip >= params.strips {
        return;
    }
    let base = strip * RECORD;
    let flags = bitcast<u32>(records[base + FLAGS]);
    var band0 = load_band(base, 0u);
    var band1 = load_band(base, 1u);
    var band2 = load_band(base, 2u);
    let threshold = records[base + COMP];
    let slope = records[base + COMP + 1u];
    let half_knee = records[base + COMP + 2u];
    let knee_scale = records[base + COMP + 3u];
    let attack = records[base + COMP + 4u];
    let release = records[base + COMP + 5u];
    let makeup = records[base + COMP + 6u];
    var envelope = records[base + ENVELOPE];
    var gain = vec2<f32>(records[base + GAIN], records[base + GAIN + 1u]);
    let gain_delta = vec2<f32>(records[base + GAIN_DELTA], records[base + GAIN_DELTA + 1u]);
    let mono = records[base + MONO];
    var peak = vec2<f32>(records[base + PEAK], records[base + PEAK + 1u]);
    var sum_squares = vec2<f32>(records[base + SUM_SQUARES], records[base + SUM_SQUARES + 1u]);

    let in_l = (strip * 2u) * params.row;
    let in_r = in_l + params.row;
    let out_l = (strip * 2u) * params.count;
    let out_r = out_l + params.count;
    let run = vec3<bool>((flags & 1u) != 0u, (flags & 2u) != 0u, (flags & 4u) != 0u);
    let ramp = vec3<bool>((flags & 8u) != 0u, (flags & 16u) != 0u, (flags & 32u) != 0u);
    let comp_on = (flags & 64u) != 0u;
    let gain_ramp = (flags & 128u) != 0u;

    for (var f = 0u; f < params.count; f++) {
        var x = vec2<f32>(input[in_l + f], input[in_r + f]);
        if run.x {
            x = band_step(&band0, x, ramp.x);
        }
        if run.y {
            x = band_step(&band1, x, ramp.y);
        }
        if run.z {
            x = band_step(&band2, x, ramp.z);
        }
        if comp_on {
            let level = max(max(abs(x.x), abs(x.y)), LEVEL_FLOOR);
            let over = DB_PER_OCTAVE * log2(level) - threshold;
            var reduction = 0.0;
            if over >= half_knee {
                reduction = slope * over;
            } else if over > -half_knee {
                reduction = knee_scale * (over + half_knee) * (over + half_knee);
            }
            reduction = min(reduction, ENVELOPE_CEILING);
            var alpha = release;
            if reduction < envelope {
                alpha = attack;
            }
            envelope = reduction + alpha * (envelope - reduction);
            x *= exp2((envelope + makeup) * OCTAVES_PER_DB);
        }
        if gain_ramp {
            gain += gain_delta;
        }
        x *= gain;
        let m = (x.x + x.y) * 0.5;
        x += mono * (vec2<f32>(m) - x);
        peak = max(peak, abs(x));
        sum_squares += x * x;
        strip_out[out_l + f] = x.x;
        strip_out[out_r + f] = x.y;
    }

    store_band(base, 0u, band0);
    store_band(base, 1u, band1);
    store_band(base, 2u, band2);
    records[base + ENVELOPE] = envelope;
    records[base + GAIN] = gain.x;
    records[base + GAIN + 1u] = gain.y;
    records[base + PEAK] = peak.x;
    records[base + PEAK + 1u] = peak.y;
    records[base + SUM_SQUARES] = sum_squares.x;
    records[base + SUM_SQUARES + 1u] = sum_squares.y;
}
