// Direct-sum gravity, tiled: each workgroup of 256 invocations (one body
// each) walks all bodies in tiles of 256 staged in workgroup memory.
// Body i: a_i = G Σ_j m_j d / (|d|² + ε²)^{3/2}, d = x_j − x_i; ε > 0 makes
// the self term exactly zero. Padding slots of the last tile have mass 0.

struct Params {
    n: u32,
    eps2: f32,
    g: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> bodies: array<vec4<f32>>; // x, y, z, m
@group(0) @binding(2) var<storage, read_write> accelerations: array<vec4<f32>>;

var<workgroup> tile: array<vec4<f32>, 256>;

@compute @workgroup_size(256)
fn forces(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let n = params.n;
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
    var p = vec4<f32>(0.0);
    if i < n {
        p = bodies[i];
    }
    var a = vec3<f32>(0.0);
    for (var base = 0u; base < n; base += 256u) {
        let j = base + lid;
        if j < n {
            tile[lid] = bodies[j];
        } else {
            tile[lid] = vec4<f32>(p.xyz, 0.0);
        }
        workgroupBarrier();
        for (var k = 0u; k < 256u; k++) {
            let b = tile[k];
            let d = b.xyz - p.xyz;
            let inv = inverseSqrt(dot(d, d) + params.eps2);
            a += (b.w * inv * inv * inv) * d;
        }
        workgroupBarrier();
    }
    if i < n {
        accelerations[i] = vec4<f32>(a * params.g, 0.0);
    }
}
