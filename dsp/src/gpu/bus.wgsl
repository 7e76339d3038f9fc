// Sums the strips' outputs of one slice into the stereo bus. Rows are
// `[strip][side]`, `params.count` frames each.
//
// `bus_partial` adds up chunks of `params.chunk` strips (one invocation
// per chunk, side and frame, so every frame of every chunk runs in
// parallel); `bus_sum` then adds `params.strips` rows — the strips
// themselves, or the chunks' partial sums — to the bus in order, one
// invocation per frame.

struct Params {
    strips: u32,
    row: u32,
    _pad: u32,
    count: u32,
    bus_offset: u32,
    bus_len: u32,
    zero: u32,
    chunk: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rows: array<f32>;
@group(0) @binding(2) var<storage, read_write> sums: array<f32>;

fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * 64u + lid;
}

// sums[(chunk * 2 + side) * count + f] = Σ strips of the chunk.
@compute @workgroup_size(64)
fn bus_partial(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_index(wid, nwg, lid);
    let chunks = (params.strips + params.chunk - 1u) / params.chunk;
    if i >= chunks * 2u * params.count {
        return;
    }
    let f = i % params.count;
    let row = i / params.count;
    let side = row % 2u;
    let first = (row / 2u) * params.chunk;
    let last = min(first + params.chunk, params.strips);
    var acc = 0.0;
    for (var s = first; s < last; s++) {
        acc += rows[(s * 2u + side) * params.count + f];
    }
    sums[i] = acc;
}

// bus[side][bus_offset + f] += Σ rows, in row order.
@compute @workgroup_size(64)
fn bus_sum(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let f = flat_index(wid, nwg, lid);
    if f >= params.count {
        return;
    }
    for (var side = 0u; side < 2u; side++) {
        let at = side * params.bus_len + params.bus_offset + f;
        var acc = sums[at];
        for (var s = 0u; s < params.strips; s++) {
            acc += rows[(s * 2u + side) * params.count + f];
        }
        sums[at] = acc;
    }
}
