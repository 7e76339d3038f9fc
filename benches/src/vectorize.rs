//! Inputs and peers for the vivace-vectorize benchmarks: the shared test
//! images, synthetic flat-colour art rasterised from SVG (so the true
//! shapes are known), and the peer tracers — VTracer 1.0.0-alpha.4 and
//! 0.6.5 through their crates, potrace 1.16 through the Debian binary.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use vivace_backend::Preference;
use vivace_vectorize::BinaryImage;
use vivace_vectorize::binary::BinaryOptions;
use vivace_vectorize::color::{ColorOptions, Layering};
use vivace_vectorize::threshold::Threshold;
use vivace_vectorize::tracer::{Mode, Tracer, TracerConfig};

/// An RGBA8 image: width, height, pixels.
pub type Rgba = (usize, usize, Vec<u8>);

/// The three vivace configurations the benchmarks compare: binary at
/// VTracer's threshold (luma < 128), and colour defaults, stacked and
/// cutout.
pub fn vivace_tracers() -> [Tracer; 3] {
    let tracer = |mode: Mode| {
        Tracer::new(
            TracerConfig {
                mode,
                ..TracerConfig::default()
            },
            Preference::Auto,
        )
        .expect("valid options")
    };
    [
        tracer(Mode::Binary(BinaryOptions {
            threshold: Threshold::Fixed(128),
            ..BinaryOptions::default()
        })),
        tracer(Mode::Color(ColorOptions::default())),
        tracer(Mode::Color(ColorOptions {
            layering: Layering::Cutout,
            ..ColorOptions::default()
        })),
    ]
}

/// Where the test images are: `$VIVACE_DATA` or `../shared/data/images`
/// beside the workspace.
pub fn data_dir() -> PathBuf {
    std::env::var_os("VIVACE_DATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/images"),
        PathBuf::from,
    )
}

/// The PNG and JPEG images in [`data_dir`], by file name (none if the
/// folder is missing).
pub fn shared_images() -> Vec<(String, Rgba)> {
    let Ok(entries) = std::fs::read_dir(data_dir()) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let img = image::open(&p).ok()?.to_rgba8();
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some((
                name,
                (img.width() as usize, img.height() as usize, img.into_raw()),
            ))
        })
        .collect()
}

/// Synthetic flat art, 512×512: circles, a rotated square, a star, a
/// curved blob and thin bars — black on white, or in six colours.
pub fn synthetic_svg(color: bool) -> String {
    let c = |k: usize| {
        if color {
            [
                "#d62828", "#f77f00", "#fcbf49", "#2a9d8f", "#264653", "#8338ec",
            ][k]
        } else {
            "#000"
        }
    };
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">
<rect width="512" height="512" fill="#fff"/>
<circle cx="140" cy="140" r="96" fill="{0}"/>
<circle cx="140" cy="140" r="40" fill="#fff"/>
<rect x="300" y="60" width="150" height="150" fill="{1}" transform="rotate(20 375 135)"/>
<path d="M256 270 L286 350 L370 352 L304 402 L328 484 L256 436 L184 484 L208 402 L142 352 L226 350 Z" fill="{2}"/>
<path d="M360 300 C420 250 500 320 470 380 C450 430 380 470 350 420 C320 380 320 330 360 300 Z" fill="{3}"/>
<rect x="30" y="300" width="8" height="180" fill="{4}"/>
<rect x="50" y="300" width="3" height="180" fill="{4}"/>
<rect x="64" y="300" width="1.5" height="180" fill="{4}"/>
<ellipse cx="110" cy="420" rx="30" ry="60" fill="{5}" transform="rotate(-30 110 420)"/>
</svg>"##,
        c(0),
        c(1),
        c(2),
        c(3),
        c(4),
        c(5)
    )
}

/// [`synthetic_svg`] rendered (anti-aliased) to RGBA.
pub fn synthetic_image(color: bool) -> Rgba {
    let px = vivace_vectorize::quality::render_svg(&synthetic_svg(color), 512, 512)
        .expect("the synthetic SVG renders");
    (512, 512, px)
}

/// VTracer 1.0.0-alpha.4 with its defaults (colour) or its binary
/// clustering (threshold 128).
pub fn vtracer_1(img: &Rgba, binary: bool) -> String {
    let config = if binary {
        vtracer1::Config {
            clustering: vtracer1::Clustering::Binary,
            ..vtracer1::Config::default()
        }
    } else {
        vtracer1::Config::default()
    };
    let image = vtracer1::ColorImage {
        pixels: img.2.clone(),
        width: img.0,
        height: img.1,
    };
    config
        .build()
        .and_then(|p| p.to_svg(&image))
        .expect("vtracer 1.0 traces")
}

/// VTracer 0.6.5 with its defaults (colour) or its binary mode.
pub fn vtracer_06(img: &Rgba, binary: bool) -> String {
    let config = vtracer06::Config {
        color_mode: if binary {
            vtracer06::ColorMode::Binary
        } else {
            vtracer06::ColorMode::Color
        },
        ..vtracer06::Config::default()
    };
    let image = vtracer06::ColorImage {
        pixels: img.2.clone(),
        width: img.0,
        height: img.1,
    };
    vtracer06::convert(image, config)
        .expect("vtracer 0.6.5 traces")
        .to_string()
}

/// Runs the `potrace` binary (default settings) on `bitmap`, if installed:
/// the SVG and the wall time of the process (PBM parse included).
pub fn potrace(bitmap: &BinaryImage) -> Option<(String, Duration)> {
    let dir = std::env::temp_dir().join(format!("vivace-potrace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let (pbm, svg) = (dir.join("in.pbm"), dir.join("out.svg"));
    let mut data = format!("P4\n{} {}\n", bitmap.width, bitmap.height).into_bytes();
    for row in bitmap.ink.chunks(bitmap.width.max(1)) {
        for byte in row.chunks(8) {
            data.push(
                byte.iter()
                    .enumerate()
                    .fold(0u8, |acc, (k, &v)| acc | (v << (7 - k))),
            );
        }
    }
    std::fs::write(&pbm, data).ok()?;
    let start = Instant::now();
    let status = Command::new("potrace")
        .args(["-b", "svg", "-o"])
        .arg(&svg)
        .arg(&pbm)
        .status()
        .ok()?;
    let elapsed = start.elapsed();
    if !status.success() {
        return None;
    }
    let out = std::fs::read_to_string(&svg).ok()?;
    let _ = std::fs::remove_dir_all(&dir);
    Some((out, elapsed))
}
