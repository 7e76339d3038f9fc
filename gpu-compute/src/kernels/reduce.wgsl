// Reduction (sum, min or max) of `len` f32 values into one value per
// workgroup. Each invocation folds a grid-stride slice of the input, then
// the workgroup combines its 256 partials with a tree in shared memory.
// The host runs this twice: input -> partials (at most 1024), partials -> 1.

struct Params {
    len: u32,
    op: u32, // 0 = sum, 1 = min, 2 = max
    groups: u32, // workgroups that take part (a 2-D grid has surplus ones)
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

var<workgroup> scratch: array<f32, 256>;

fn identity(op: u32) -> f32 {
    switch op {
        case 1u: { return bitcast<f32>(0x7f800000u); }  // +inf
        case 2u: { return bitcast<f32>(0xff800000u); }  // -inf
        default: { return 0.0; }
    }
}

fn combine(op: u32, a: f32, b: f32) -> f32 {
    switch op {
        case 1u: { return min(a, b); }
        case 2u: { return max(a, b); }
        default: { return a + b; }
    }
}

@compute @workgroup_size(256)
fn reduce(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let op = params.op;
    let group = wid.y * nwg.x + wid.x;
    if group >= params.groups {
        return; // uniform per workgroup, so the barriers below stay valid
    }
    let stride = params.groups * 256u;
    var acc = identity(op);
    for (var i = group * 256u + lid; i < params.len; i += stride) {
        acc = combine(op, acc, input[i]);
    }
    scratch[lid] = acc;
    workgroupBarrier();
    for (var half = 128u; half > 0u; half >>= 1u) {
        if lid < half {
            scratch[lid] = combine(op, scratch[lid], scratch[lid + half]);
        }
        workgroupBarrier();
    }
    if lid == 0u {
        partials[group] = scratch[0];
    }
}
