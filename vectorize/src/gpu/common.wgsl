// Shared by the pixel kernels (prepended to each module by gpu/mod.rs).

// Luma of one RGBA8 pixel composited over white, in exactly the 8-bit
// integer arithmetic of the CPU kernels (pixels.rs), so every backend gives
// the same bytes.
fn luma_of(p: u32) -> u32 {
    let r = p & 0xffu;
    let g = (p >> 8u) & 0xffu;
    let b = (p >> 16u) & 0xffu;
    let a = p >> 24u;
    let y = (77u * r + 150u * g + 29u * b + 128u) >> 8u;
    let x = y * a + 255u * (255u - a) + 127u;
    return (x + 1u + (x >> 8u)) >> 8u;
}

// The flat index of a 256-wide workgroup's invocation on a 1-D or 2-D grid.
fn word_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * 256u + lid;
}
