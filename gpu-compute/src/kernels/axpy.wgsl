// y = a * x + y over `len` f32 values, one invocation per value.
// Dispatched 1-D or 2-D (see workgroup_grid): the flat index folds both.

struct Params {
    a: f32,
    len: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn axpy(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
    if i < params.len {
        y[i] = fma(params.a, x[i], y[i]);
    }
}
