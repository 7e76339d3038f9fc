// The channel strip on the GPU: one invocation per strip runs its frames in
// order (the filters and the compressor are recursive in time), writing
// its stereo output per frame; a second pass sums the strips into the bus
// per frame, in strip order (as the scalar kernel does).
//
// Each strip's parameters and state are one record of 60 floats (see
// gpu/mod.rs for the layout); the record is updated in place.

struct Params {
    strips: u32,
    max_block: u32, // frames per row of the lane-interleaved input (this call's)
    first: u32,     // first frame of this slice (input index)
    count: u32,     // frames in this slice
    bus_offset: u32, // where this slice starts in the bus
    bus_len: u32,   // frames per bus side
    _pad0: u32,
    _pad1: u32,
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

const GROUP: u32 = 8u;
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
    var coef: array<f32, 15>;
    var delta: array<f32, 15>;
    var state: array<f32, 12>;
    for (var k = 0u; k < 15u; k++) {
        coef[k] = records[base + COEF + k];
        delta[k] = records[base + DELTA + k];
    }
    for (var k = 0u; k < 12u; k++) {
        state[k] = records[base + STATE + k];
    }
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

    let group = strip / GROUP;
    let lane = strip % GROUP;
    let row_l = (group * 2u) * params.max_block * GROUP + lane;
    let row_r = (group * 2u + 1u) * params.max_block * GROUP + lane;
    let comp_on = (flags & 64u) != 0u;
    let gain_ramp = (flags & 128u) != 0u;

    for (var f = 0u; f < params.count; f++) {
        let n = params.first + f;
        var x = vec2<f32>(input[row_l + n * GROUP], input[row_r + n * GROUP]);
        for (var band = 0u; band < 3u; band++) {
            if (flags & (1u << band)) == 0u {
                continue;
            }
            let c = band * 5u;
            if (flags & (8u << band)) != 0u {
                for (var k = 0u; k < 5u; k++) {
                    coef[c + k] += delta[c + k];
                }
            }
            // Transposed direct form II, as tdf2_step in biquad.rs.
            for (var side = 0u; side < 2u; side++) {
                let s = band * 4u + side * 2u;
                let y = coef[c] * x[side] + state[s];
                state[s] = (coef[c + 1u] * x[side] + state[s + 1u]) - coef[c + 3u] * y;
                state[s + 1u] = (coef[c + 2u] * x[side] + ANTI_DENORMAL) - coef[c + 4u] * y;
                x[side] = y;
            }
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
        strip_out[(strip * 2u) * params.count + f] = x.x;
        strip_out[(strip * 2u + 1u) * params.count + f] = x.y;
    }

    for (var k = 0u; k < 15u; k++) {
        records[base + COEF + k] = coef[k];
    }
    for (var k = 0u; k < 12u; k++) {
        records[base + STATE + k] = state[k];
    }
    records[base + ENVELOPE] = envelope;
    records[base + GAIN] = gain.x;
    records[base + GAIN + 1u] = gain.y;
    records[base + PEAK] = peak.x;
    records[base + PEAK + 1u] = peak.y;
    records[base + SUM_SQUARES] = sum_squares.x;
    records[base + SUM_SQUARES + 1u] = sum_squares.y;
}
