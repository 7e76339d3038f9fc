// Histogram of the luma of the opaque pixels (alpha >= 128), computed from
// RGBA in one pass: each workgroup counts a grid-stride share of the pixels
// into shared-memory bins, then adds them to the global bins (cleared by
// the host first). `luma_of` is in common.wgsl.

struct Params {
    len: u32, // pixels
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pixels: array<u32>;
@group(0) @binding(2) var<storage, read_write> bins: array<atomic<u32>, 256>;

var<workgroup> local_bins: array<atomic<u32>, 256>;

@compute @workgroup_size(256)
fn luma_histogram(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    atomicStore(&local_bins[lid], 0u);
    workgroupBarrier();

    let group = wid.y * nwg.x + wid.x;
    let stride = nwg.x * nwg.y * 256u;
    for (var i = group * 256u + lid; i < params.len; i += stride) {
        let p = pixels[i];
        if (p >> 24u) >= 128u {
            atomicAdd(&local_bins[luma_of(p)], 1u);
        }
    }
    workgroupBarrier();

    let count = atomicLoad(&local_bins[lid]);
    if count != 0u {
        atomicAdd(&bins[lid], count);
    }
}
