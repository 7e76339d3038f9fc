//! Runs a WAV file through one vivace-dsp channel strip, offline.
//!
//! ```text
//! cargo run --release --example wav_strip -- IN.wav OUT.wav
//!     [--low-shelf FREQ:GAIN_DB] [--mid FREQ:GAIN_DB:Q] [--high-shelf FREQ:GAIN_DB]
//!     [--comp THRESHOLD_DB:RATIO:ATTACK_MS:RELEASE_MS[:KNEE_DB]] [--makeup-db DB]
//!     [--gain-db DB] [--pan P] [--mono] [--backend auto|scalar|simd|gpu]
//! ```
//!
//! Reads 16/24-bit PCM or 32-bit float WAV, mono or stereo (mono is fed to
//! both sides of the strip and written as stereo), at any sample rate;
//! writes 32-bit float stereo at the input rate. Stages not named are
//! bypassed. Prints each channel's peak and RMS in dBFS and the backend.
//! Bad input → one line on stderr, exit code 2, and OUT is neither created
//! nor truncated (the output is written to a temporary file next to it and
//! renamed into place only when complete).

use std::path::{Path, PathBuf};
use std::time::Instant;

use vivace_backend::Preference;
use vivace_dsp::{Bell, CompressorSettings, Mixer, MixerConfig, Shelf, StripSettings};
use vivace_examples::{exit_usage, or_exit};

const USAGE: &str = "usage: wav_strip IN.wav OUT.wav [--low-shelf FREQ:GAIN_DB] [--mid FREQ:GAIN_DB:Q] [--high-shelf FREQ:GAIN_DB] [--comp THRESHOLD_DB:RATIO:ATTACK_MS:RELEASE_MS[:KNEE_DB]] [--makeup-db DB] [--gain-db DB] [--pan P] [--mono] [--backend auto|scalar|simd|gpu]";

struct Args {
    input: PathBuf,
    output: PathBuf,
    settings: StripSettings,
    preference: Preference,
}

/// `a:b:c` → numbers, with exactly `min..=max` fields.
fn fields(option: &str, value: &str, min: usize, max: usize) -> Vec<f64> {
    let parts: Vec<&str> = value.split(':').collect();
    if parts.len() < min || parts.len() > max {
        exit_usage(format_args!(
            "{option} expects {min}{} colon-separated numbers, got {value:?}",
            if max > min {
                format!("–{max}")
            } else {
                String::new()
            }
        ));
    }
    parts
        .iter()
        .map(|p| {
            p.trim()
                .parse::<f64>()
                .unwrap_or_else(|_| exit_usage(format_args!("{option}: {p:?} is not a number")))
        })
        .collect()
}

fn number(option: &str, value: &str) -> f64 {
    fields(option, value, 1, 1)[0]
}

fn parse() -> Args {
    let mut positional = Vec::new();
    let mut settings = StripSettings::default();
    let mut makeup = None;
    let mut preference = Preference::Auto;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| exit_usage(format_args!("{name} needs a value; {USAGE}")))
        };
        match arg.as_str() {
            "--low-shelf" => {
                let f = fields(&arg, &value(&arg), 2, 2);
                settings.eq.low_shelf = Some(Shelf::new(f[0], f[1]));
            }
            "--mid" => {
                let f = fields(&arg, &value(&arg), 3, 3);
                settings.eq.mid = Some(Bell {
                    frequency: f[0],
                    gain_db: f[1],
                    q: f[2],
                });
            }
            "--high-shelf" => {
                let f = fields(&arg, &value(&arg), 2, 2);
                settings.eq.high_shelf = Some(Shelf::new(f[0], f[1]));
            }
            "--comp" => {
                let f = fields(&arg, &value(&arg), 4, 5);
                settings.compressor = Some(CompressorSettings {
                    threshold_db: f[0],
                    ratio: f[1],
                    attack_ms: f[2],
                    release_ms: f[3],
                    knee_db: f.get(4).copied().unwrap_or(0.0),
                    makeup_db: 0.0,
                });
            }
            "--makeup-db" => makeup = Some(number(&arg, &value(&arg))),
            "--gain-db" => settings.gain_db = number(&arg, &value(&arg)),
            "--pan" => settings.pan = number(&arg, &value(&arg)),
            "--mono" => settings.mono = true,
            "--backend" => preference = or_exit(value(&arg).parse::<Preference>(), "--backend"),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            s if s.starts_with("--") => exit_usage(format_args!("unknown option {s}; {USAGE}")),
            _ => positional.push(PathBuf::from(arg)),
        }
    }
    if positional.len() != 2 {
        exit_usage(USAGE);
    }
    if let Some(db) = makeup {
        match settings.compressor.as_mut() {
            Some(c) => c.makeup_db = db,
            None => exit_usage(
                "--makeup-db is the compressor's makeup gain and needs --comp (use --gain-db otherwise)",
            ),
        }
    }
    or_exit(settings.validate(), "settings");
    let output = positional.pop().unwrap_or_default();
    let input = positional.pop().unwrap_or_default();
    Args {
        input,
        output,
        settings,
        preference,
    }
}

/// Reads a WAV into planar stereo (mono duplicated); returns (samples, rate, description).
fn read_wav(path: &Path) -> (Vec<f32>, Vec<f32>, u32, String) {
    let mut reader = or_exit(hound::WavReader::open(path), &path.display().to_string());
    let spec = reader.spec();
    if !(1..=2).contains(&spec.channels) {
        exit_usage(format_args!(
            "{}: {} channels; only mono and stereo are supported",
            path.display(),
            spec.channels
        ));
    }
    let samples: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => or_exit(
            reader.samples::<f32>().collect::<Result<_, _>>(),
            "reading samples",
        ),
        (hound::SampleFormat::Int, bits @ (16 | 24)) => {
            let scale = 1.0 / (1u32 << (bits - 1)) as f32;
            or_exit(
                reader
                    .samples::<i32>()
                    .map(|s| s.map(|v| v as f32 * scale))
                    .collect::<Result<_, _>>(),
                "reading samples",
            )
        }
        (format, bits) => exit_usage(format_args!(
            "{}: {bits}-bit {format:?} samples are not supported (16/24-bit PCM or 32-bit float)",
            path.display()
        )),
    };
    let ch = spec.channels as usize;
    let left: Vec<f32> = samples.iter().step_by(ch).copied().collect();
    let right: Vec<f32> = if ch == 2 {
        samples.iter().skip(1).step_by(2).copied().collect()
    } else {
        left.clone()
    };
    let description = format!(
        "{} Hz, {}-bit {:?}, {}",
        spec.sample_rate,
        spec.bits_per_sample,
        spec.sample_format,
        if ch == 1 { "mono" } else { "stereo" }
    );
    (left, right, spec.sample_rate, description)
}

fn level_db(samples: &[f32]) -> (f64, f64) {
    let peak = samples.iter().fold(0.0f32, |m, x| m.max(x.abs())) as f64;
    let rms = (samples.iter().map(|x| (*x as f64).powi(2)).sum::<f64>()
        / samples.len().max(1) as f64)
        .sqrt();
    (20.0 * peak.log10(), 20.0 * rms.log10())
}

fn main() {
    let args = parse();
    let (left_in, right_in, rate, description) = read_wav(&args.input);
    let frames = left_in.len();
    let config = MixerConfig::new(rate as f64, 1).with_max_block(4096);
    let mut mixer = or_exit(Mixer::new(config, args.preference), "--backend");
    or_exit(mixer.set_strip(0, &args.settings), "settings");
    let mut input = left_in;
    input.extend_from_slice(&right_in);
    let (mut left, mut right) = (vec![0.0f32; frames], vec![0.0f32; frames]);
    let start = Instant::now();
    or_exit(mixer.render(&input, &mut left, &mut right), "processing");
    let elapsed = start.elapsed();

    // Write next to OUT, then rename: OUT is untouched unless all succeeds.
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let dir = args
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = dir.join(format!(
        ".{}.wav_strip.tmp",
        args.output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let written = (|| -> Result<(), hound::Error> {
        let mut writer = hound::WavWriter::create(&temp, spec)?;
        for (l, r) in left.iter().zip(&right) {
            writer.write_sample(*l)?;
            writer.write_sample(*r)?;
        }
        writer.finalize()
    })();
    if let Err(e) = written
        .map_err(|e| e.to_string())
        .and_then(|()| std::fs::rename(&temp, &args.output).map_err(|e| e.to_string()))
    {
        let _ = std::fs::remove_file(&temp);
        exit_usage(format_args!("writing {}: {e}", args.output.display()));
    }

    println!(
        "input    {} ({description}, {frames} frames, {:.2} s)",
        args.input.display(),
        frames as f64 / rate as f64
    );
    println!("backend  {}", mixer.backend_name());
    for skipped in mixer.skipped() {
        println!("         skipped {skipped}");
    }
    for (name, channel) in [("left ", &left), ("right", &right)] {
        let (peak, rms) = level_db(channel);
        println!("{name}    peak {peak:7.2} dBFS   RMS {rms:7.2} dBFS");
    }
    println!(
        "output   {} (32-bit float stereo) in {:.1} ms ({:.0}× real time)",
        args.output.display(),
        elapsed.as_secs_f64() * 1000.0,
        frames as f64 / rate as f64 / elapsed.as_secs_f64().max(1e-9)
    );
}
