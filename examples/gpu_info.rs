//! Lists every GPU adapter wgpu can see, the one vivace picks, and its
//! limits and features.
//!
//! ```text
//! cargo run --release --example gpu_info
//! WGPU_BACKEND=vulkan WGPU_ADAPTER_NAME=llvmpipe cargo run --release --example gpu_info
//! ```
//!
//! Exits with code 2 and one line when no adapter can be used.

use vivace_examples::exit_usage;
use vivace_gpu_compute::{GpuContext, list_adapters};

fn main() {
    let adapters = list_adapters();
    println!("adapters wgpu can see ({}):", adapters.len());
    for (summary, limits, features) in &adapters {
        println!("  - {summary}");
        println!("      driver: {}", summary.driver);
        println!(
            "      max buffer {} MiB, max storage binding {} MiB, {} workgroups per dimension",
            limits.max_buffer_size >> 20,
            limits.max_storage_buffer_binding_size >> 20,
            limits.max_compute_workgroups_per_dimension
        );
        println!(
            "      timestamp queries: {}",
            if features.contains(vivace_gpu_compute::wgpu::Features::TIMESTAMP_QUERY) {
                "yes"
            } else {
                "no"
            }
        );
    }

    let ctx = GpuContext::new().unwrap_or_else(|e| exit_usage(e));
    println!("\nchosen: {}", ctx.report_line());
    let limits = ctx.limits();
    println!("device limits requested:");
    println!(
        "  max_buffer_size:                  {}",
        limits.max_buffer_size
    );
    println!(
        "  max_storage_buffer_binding_size:  {}",
        limits.max_storage_buffer_binding_size
    );
    println!(
        "  max_compute_workgroups_per_dim:   {}",
        limits.max_compute_workgroups_per_dimension
    );
    println!(
        "  max_compute_invocations_per_wg:   {}",
        limits.max_compute_invocations_per_workgroup
    );
    println!(
        "  max_compute_workgroup_storage:    {}",
        limits.max_compute_workgroup_storage_size
    );
    println!("device features: {:?}", ctx.features());
}
