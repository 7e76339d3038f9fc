// 256-bin histogram of `len` bytes, packed four to a u32 word
// (little-endian). Each workgroup counts a grid-stride share of the words
// into shared-memory bins, then adds its bins to the global ones (which the
// host clears first).

struct Params {
    len: u32, // in bytes
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> words: array<u32>;
@group(0) @binding(2) var<storage, read_write> bins: array<atomic<u32>, 256>;

var<workgroup> local_bins: array<atomic<u32>, 256>;

@compute @workgroup_size(256)
fn histogram(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    atomicStore(&local_bins[lid], 0u);
    workgroupBarrier();

    let group = wid.y * nwg.x + wid.x;
    let stride = nwg.x * nwg.y * 256u;
    let word_count = (params.len + 3u) / 4u;
    for (var w = group * 256u + lid; w < word_count; w += stride) {
        let word = words[w];
        let first = w * 4u;
        for (var k = 0u; k < 4u; k++) {
            if first + k < params.len {
                atomicAdd(&local_bins[(word >> (8u * k)) & 0xffu], 1u);
            }
        }
    }
    workgroupBarrier();

    let count = atomicLoad(&local_bins[lid]);
    if count != 0u {
        atomicAdd(&bins[lid], count);
    }
}
