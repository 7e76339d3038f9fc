/*!
Helpers shared by the vivace example programs (`cargo run --release
--example NAME`; the programs are the `*.rs` files next to this crate's
`Cargo.toml`).

Every example follows one convention for bad input: print one line that
says what is wrong to stderr and exit with code 2 ([`exit_usage`]).
*/
#![deny(missing_docs)]

use std::fmt::Display;

/// Exit code for bad input or an unusable configuration.
pub const EXIT_USAGE: i32 = 2;

/// Prints `error: {message}` as one line on stderr and exits with code 2.
pub fn exit_usage(message: impl Display) -> ! {
    let text = message.to_string().replace('\n', " ");
    eprintln!("error: {text}");
    std::process::exit(EXIT_USAGE)
}

/// Unwraps `result`, or exits with code 2 and a one-line message naming
/// `context`.
pub fn or_exit<T, E: Display>(result: Result<T, E>, context: &str) -> T {
    result.unwrap_or_else(|e| exit_usage(format_args!("{context}: {e}")))
}

/// Formats a rate with an SI prefix: `format_rate(2.5e9, "B/s")` is
/// `"2.50 GB/s"`.
pub fn format_rate(per_second: f64, unit: &str) -> String {
    let (value, prefix) = match per_second.abs() {
        x if x >= 1e12 => (per_second / 1e12, "T"),
        x if x >= 1e9 => (per_second / 1e9, "G"),
        x if x >= 1e6 => (per_second / 1e6, "M"),
        x if x >= 1e3 => (per_second / 1e3, "k"),
        _ => (per_second, ""),
    };
    format!("{value:.2} {prefix}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_use_si_prefixes() {
        assert_eq!(format_rate(2.5e9, "B/s"), "2.50 GB/s");
        assert_eq!(format_rate(999.0, "op/s"), "999.00 op/s");
        assert_eq!(format_rate(1.5e6, "op/s"), "1.50 Mop/s");
    }
}
