//! The scalar reference kernels.

use vivace_backend::{Backend, BackendKind};

use super::{GenericKernels, ReduceOp, check_histogram_len, check_same_len};
use crate::Result;

/// Plain one-value-at-a-time kernels: the reference the SIMD and GPU
/// backends are tested against.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScalarKernels;

impl Backend for ScalarKernels {
    fn kind(&self) -> BackendKind {
        BackendKind::Scalar
    }
    fn name(&self) -> String {
        "generic kernels (scalar)".into()
    }
}

impl GenericKernels for ScalarKernels {
    fn axpy(&mut self, a: f32, x: &[f32], y: &mut [f32]) -> Result<()> {
        check_same_len("axpy x and y", x.len(), y.len())?;
        for (yi, &xi) in y.iter_mut().zip(x) {
            *yi += a * xi;
        }
        Ok(())
    }

    fn reduce(&mut self, op: ReduceOp, x: &[f32]) -> Result<f32> {
        let init = op.identity();
        Ok(match op {
            ReduceOp::Sum => x.iter().fold(init, |acc, &v| acc + v),
            ReduceOp::Min => x.iter().fold(init, |acc, &v| acc.min(v)),
            ReduceOp::Max => x.iter().fold(init, |acc, &v| acc.max(v)),
        })
    }

    fn inclusive_scan(&mut self, input: &[u32], output: &mut [u32]) -> Result<()> {
        check_same_len("scan input and output", input.len(), output.len())?;
        let mut running = 0u32;
        for (out, &v) in output.iter_mut().zip(input) {
            running = running.wrapping_add(v);
            *out = running;
        }
        Ok(())
    }

    fn histogram(&mut self, bytes: &[u8]) -> Result<[u32; 256]> {
        check_histogram_len(bytes.len())?;
        let mut bins = [0u32; 256];
        for &b in bytes {
            bins[usize::from(b)] += 1;
        }
        Ok(bins)
    }
}
