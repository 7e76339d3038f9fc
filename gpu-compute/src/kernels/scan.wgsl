// Inclusive prefix sum of u32 values (wrapping), in three kernels:
//   scan_blocks: each workgroup scans a block of 1024 values (4 per
//                invocation) and writes the block total to `sums`;
//   the host scans `sums` the same way, recursively;
//   add_offsets: adds the scanned total of all earlier blocks to each value.

struct Params {
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<u32>;
@group(0) @binding(2) var<storage, read_write> output: array<u32>;
@group(0) @binding(3) var<storage, read_write> sums: array<u32>;

var<workgroup> totals: array<u32, 256>;

@compute @workgroup_size(256)
fn scan_blocks(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let block = wid.y * nwg.x + wid.x;
    let base = block * 1024u + lid * 4u;

    // Each invocation scans its own 4 values in registers.
    var v: array<u32, 4>;
    var running = 0u;
    for (var k = 0u; k < 4u; k++) {
        let i = base + k;
        var value = 0u;
        if i < params.len {
            value = input[i];
        }
        running += value;
        v[k] = running;
    }

    // Hillis-Steele inclusive scan of the 256 per-invocation totals.
    totals[lid] = running;
    workgroupBarrier();
    for (var offset = 1u; offset < 256u; offset <<= 1u) {
        var add = 0u;
        if lid >= offset {
            add = totals[lid - offset];
        }
        workgroupBarrier();
        totals[lid] += add;
        workgroupBarrier();
    }

    var carry = 0u;
    if lid > 0u {
        carry = totals[lid - 1u];
    }
    for (var k = 0u; k < 4u; k++) {
        let i = base + k;
        if i < params.len {
            output[i] = v[k] + carry;
        }
    }
    // Surplus workgroups of a 2-D grid start past the end: no total.
    if lid == 255u && block * 1024u < params.len {
        sums[block] = totals[255];
    }
}

// Binding 1 holds the scanned block totals here. (Binding 3 is not used,
// so the derived layout of this entry point has bindings 0 to 2 only.)
@compute @workgroup_size(256)
fn add_offsets(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let block = wid.y * nwg.x + wid.x;
    if block == 0u {
        return;
    }
    let carry = input[block - 1u];
    let base = block * 1024u + lid * 4u;
    for (var k = 0u; k < 4u; k++) {
        let i = base + k;
        if i < params.len {
            output[i] += carry;
        }
    }
}
