// Luma (composited over white) or ink for the binary mode, four pixels per
// invocation packed into one output word, in exactly the 8-bit integer
// arithmetic of the CPU kernels (so every backend gives the same bytes).

struct Params {
    len: u32,       // pixels
    threshold: u32, // ink below this luma
    ink: u32,       // 0: write luma; 1: write ink (0/1)
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pixels: array<u32>; // RGBA8, little-endian
@group(0) @binding(2) var<storage, read_write> out: array<u32>; // bytes, packed

fn byte_of(p: u32) -> u32 {
    let l = luma_of(p);
    if params.ink == 0u {
        return l;
    }
    return select(0u, 1u, (p >> 24u) >= 128u && l < params.threshold);
}

@compute @workgroup_size(256)
fn luma_or_ink(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let w = word_index(wid, nwg, lid);
    let first = w * 4u;
    if first >= params.len {
        return;
    }
    var word = 0u;
    for (var k = 0u; k < 4u; k++) {
        if first + k < params.len {
            word |= byte_of(pixels[first + k]) << (8u * k);
        }
    }
    out[w] = word;
}
