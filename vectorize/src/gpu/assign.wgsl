// k-means assignment: the nearest centroid of each OKLab pixel (lowest
// index on ties), four pixels per invocation packed into one label word.
// The distance is (dL² + da²) + db², the CPU order; the shader compiler may
// fuse multiply-adds, so a pixel almost equidistant from two centroids can
// get the other one (see the crate docs for the stated tolerance).
// `assign_alpha` also labels transparent pixels (alpha < 128) 255.

struct Params {
    len: u32, // pixels
    k: u32,   // centroids, 1..=254
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> plane_l: array<f32>;
@group(0) @binding(2) var<storage, read> plane_a: array<f32>;
@group(0) @binding(3) var<storage, read> plane_b: array<f32>;
@group(0) @binding(4) var<storage, read> centroids: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> labels: array<u32>; // bytes, packed
@group(0) @binding(6) var<storage, read> pixels: array<u32>;       // RGBA8

fn distance2(i: u32, c: vec4<f32>) -> f32 {
    let dl = plane_l[i] - c.x;
    let da = plane_a[i] - c.y;
    let db = plane_b[i] - c.z;
    return (dl * dl + da * da) + db * db;
}

fn nearest(i: u32) -> u32 {
    var best = 0u;
    var best_d = distance2(i, centroids[0]);
    for (var k = 1u; k < params.k; k++) {
        let d = distance2(i, centroids[k]);
        if d < best_d {
            best = k;
            best_d = d;
        }
    }
    return best;
}

@compute @workgroup_size(256)
fn assign(
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
            word |= nearest(first + k) << (8u * k);
        }
    }
    labels[w] = word;
}

@compute @workgroup_size(256)
fn assign_alpha(
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
        let i = first + k;
        if i < params.len {
            var label = 255u;
            if (pixels[i] >> 24u) >= 128u {
                label = nearest(i);
            }
            word |= label << (8u * k);
        }
    }
    labels[w] = word;
}
