// Sums the strips' outputs of one slice into the stereo bus, one
// invocation per frame, strips in order (the scalar kernel's order).

struct Params {
    strips: u32,
    max_block: u32,
    first: u32,
    count: u32,
    bus_offset: u32,
    bus_len: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> strip_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> bus: array<f32>; // [side][bus_len]

@compute @workgroup_size(64)
fn bus_sum(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let f = (wid.y * nwg.x + wid.x) * 64u + lid;
    if f >= params.count {
        return;
    }
    for (var side = 0u; side < 2u; side++) {
        let at = side * params.bus_len + params.bus_offset + f;
        var acc = bus[at];
        for (var s = 0u; s < params.strips; s++) {
            acc += strip_out[(s * 2u + side) * params.count + f];
        }
        bus[at] = acc;
    }
}
