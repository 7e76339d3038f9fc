//! `Mixer::process` allocates nothing (a counting global allocator), on
//! every backend this machine has, including blocks that ramp settings and
//! cross meter windows.
//!
//! Only the test thread's allocations count: the test harness's own thread
//! may allocate at any moment (it once did, mid-test, and failed the test).

use vivace_backend::SimdLevel;
use vivace_dsp::{
    Bell, CompressorSettings, Mixer, MixerConfig, ScalarStrips, Shelf, SimdStrips, StripKernel,
    StripSettings,
};
use vivace_test_support::{CountingAllocator, thread_allocations};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator::per_thread();

#[test]
fn process_allocates_nothing() {
    let mut kernels: Vec<Box<dyn StripKernel>> = vec![Box::new(ScalarStrips)];
    for level in SimdLevel::ALL {
        if let Ok(k) = SimdStrips::new(level) {
            kernels.push(Box::new(k));
        }
    }
    for kernel in kernels {
        let strips = 37;
        let config = MixerConfig::new(48_000.0, strips).with_meter_window(200);
        let mut mixer = Mixer::with_kernel(config, kernel).unwrap();
        let mut settings = StripSettings {
            compressor: Some(CompressorSettings::default()),
            ..StripSettings::default()
        };
        settings.eq.low_shelf = Some(Shelf::new(120.0, 3.0));
        settings.eq.mid = Some(Bell {
            frequency: 1_000.0,
            gain_db: -4.0,
            q: 1.2,
        });
        settings.eq.high_shelf = Some(Shelf::new(9_000.0, 2.0));
        let input: Vec<f32> = (0..strips * 2 * 128)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let (mut l, mut r) = (vec![0.0f32; 128], vec![0.0f32; 128]);
        let before = thread_allocations();
        for block in 0..50 {
            if block % 10 == 5 {
                // Retuning between blocks: validation and coefficient
                // design allocate nothing either.
                settings.eq.mid = Some(Bell {
                    frequency: 500.0 + 50.0 * block as f64,
                    gain_db: 3.0,
                    q: 1.0,
                });
                for s in 0..strips {
                    mixer.set_strip(s, &settings).unwrap();
                }
            }
            let n = 64 + block % 65;
            mixer
                .process(&input[..strips * 2 * n], &mut l[..n], &mut r[..n])
                .unwrap();
        }
        let after = thread_allocations();
        assert_eq!(
            after - before,
            0,
            "{} allocated {} times",
            mixer.backend_name(),
            after - before
        );
    }
}
