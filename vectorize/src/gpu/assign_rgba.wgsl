// k-means assignment straight from RGBA8, four pixels per invocation
// packed into one label word: each pixel's OKLab is computed as the CPU
// kernels compute it (oklab.rs: sRGB decoded through the same 256-entry
// table, the two matrices with every product rounded on its own, the cube
// root from the same exponent-bit estimate and three Newton steps), then
// its nearest centroid (lowest index on ties) at (dL² + da²) + db².
// Transparent pixels (alpha < 128) get 255. WGSL's division need not be
// correctly rounded (Vulkan allows 2.5 ulp), so a cube root can differ
// from the CPU's in its last bits: a label then differs only between
// centroids equidistant to within ASSIGN_TOLERANCE.

struct Params {
    len: u32,  // pixels
    k: u32,    // centroids, 1..=254
    zero: u32, // always 0; see `rounded`
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pixels: array<u32>;  // RGBA8
@group(0) @binding(2) var<storage, read> decode: array<f32>;  // 256 entries
@group(0) @binding(3) var<storage, read> centroids: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> labels: array<u32>; // bytes, packed

const CBRT_MAGIC: u32 = 0x2a5137a0u;
const THIRD: f32 = 0.33333334;

// A product rounded on its own: the exclusive-or with a zero the compiler
// cannot see stops it fusing the product into the next add (WGSL allows
// that; the CPU kernels never fuse).
fn rounded(p: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(p) ^ params.zero);
}

fn dot3(m: vec3<f32>, v: vec3<f32>) -> f32 {
    return (rounded(m.x * v.x) + rounded(m.y * v.y)) + rounded(m.z * v.z);
}

fn cbrt(x: f32) -> f32 {
    var y = bitcast<f32>(bitcast<u32>(x) / 3u + CBRT_MAGIC);
    for (var i = 0; i < 3; i++) {
        y = (y + y + x / (y * y)) * THIRD;
    }
    return y;
}

fn oklab(p: u32) -> vec3<f32> {
    let rgb = vec3<f32>(decode[p & 0xffu], decode[(p >> 8u) & 0xffu], decode[(p >> 16u) & 0xffu]);
    let lms = vec3<f32>(
        cbrt(dot3(vec3<f32>(0.41222146, 0.53633255, 0.051445995), rgb)),
        cbrt(dot3(vec3<f32>(0.2119035, 0.6806995, 0.10739696), rgb)),
        cbrt(dot3(vec3<f32>(0.08830246, 0.28171885, 0.6299787), rgb)),
    );
    return vec3<f32>(
        dot3(vec3<f32>(0.21045426, 0.7936178, -0.004072047), lms),
        dot3(vec3<f32>(1.9779985, -2.4285922, 0.4505937), lms),
        dot3(vec3<f32>(0.025904037, 0.78277177, -0.80867577), lms),
    );
}

fn nearest(p: vec3<f32>) -> u32 {
    var best = 0u;
    var best_d = 3.4028235e38;
    for (var k = 0u; k < params.k; k++) {
        let d = p - centroids[k].xyz;
        let d2 = (rounded(d.x * d.x) + rounded(d.y * d.y)) + rounded(d.z * d.z);
        if d2 < best_d {
            best = k;
            best_d = d2;
        }
    }
    return best;
}

@compute @workgroup_size(256)
fn assign_rgba(
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
            let p = pixels[i];
            var label = 255u;
            if (p >> 24u) >= 128u {
                label = nearest(oklab(p));
            }
            word |= label << (8u * k);
        }
    }
    labels[w] = word;
}
