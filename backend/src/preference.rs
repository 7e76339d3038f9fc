//! Backend preference: `Auto`, or a forced kind, from code or the environment.

use std::ffi::OsStr;
use std::fmt;
use std::str::FromStr;

use crate::BackendKind;

/// Which backend a program wants.
///
/// `Auto` walks the fallback chain (GPU where it pays, then the best SIMD,
/// then scalar). A forced kind uses only candidates of that kind and is an
/// error when none of them is available: forcing never falls back silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Preference {
    /// Pick the best available backend.
    #[default]
    Auto,
    /// Force plain scalar code.
    Scalar,
    /// Force SIMD (the best level this CPU has).
    Simd,
    /// Force the GPU.
    Gpu,
}

impl Preference {
    /// The environment variable [`Preference::from_env`] reads.
    pub const ENV_VAR: &'static str = "VIVACE_BACKEND";

    /// The values `VIVACE_BACKEND` accepts.
    pub const ACCEPTED: [&'static str; 4] = ["auto", "scalar", "simd", "gpu"];

    /// Reads `VIVACE_BACKEND`. Unset or empty means `Auto`; anything other
    /// than `auto|scalar|simd|gpu` (any case, surrounding spaces ignored) is
    /// an error that names the accepted values.
    ///
    /// ```
    /// use vivace_backend::Preference;
    /// // In a program: force every vivace crate with VIVACE_BACKEND=scalar.
    /// let preference = Preference::from_env().unwrap_or_else(|e| {
    ///     eprintln!("{e}");
    ///     std::process::exit(2)
    /// });
    /// # let _ = preference;
    /// ```
    pub fn from_env() -> Result<Preference, PreferenceError> {
        Preference::from_env_value(std::env::var_os(Self::ENV_VAR).as_deref())
    }

    /// Parses a raw value of `VIVACE_BACKEND` as [`Preference::from_env`]
    /// would (`None` means the variable is unset).
    pub fn from_env_value(value: Option<&OsStr>) -> Result<Preference, PreferenceError> {
        let Some(value) = value else {
            return Ok(Preference::Auto);
        };
        let Some(text) = value.to_str() else {
            return Err(PreferenceError {
                value: value.to_string_lossy().into_owned(),
            });
        };
        if text.trim().is_empty() {
            return Ok(Preference::Auto);
        }
        text.parse()
    }

    /// Whether a candidate of this kind may be used under this preference.
    pub fn admits(self, kind: BackendKind) -> bool {
        match self {
            Preference::Auto => true,
            Preference::Scalar => kind == BackendKind::Scalar,
            Preference::Simd => kind.is_simd(),
            Preference::Gpu => kind == BackendKind::Gpu,
        }
    }

    /// Whether this preference forces a kind (anything but `Auto`).
    pub fn is_forced(self) -> bool {
        self != Preference::Auto
    }

    /// The lower-case name, as `VIVACE_BACKEND` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Preference::Auto => "auto",
            Preference::Scalar => "scalar",
            Preference::Simd => "simd",
            Preference::Gpu => "gpu",
        }
    }
}

impl FromStr for Preference {
    type Err = PreferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Preference::Auto),
            "scalar" => Ok(Preference::Scalar),
            "simd" => Ok(Preference::Simd),
            "gpu" => Ok(Preference::Gpu),
            _ => Err(PreferenceError {
                value: s.to_string(),
            }),
        }
    }
}

impl fmt::Display for Preference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A backend name that is not one of `auto|scalar|simd|gpu`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreferenceError {
    /// The value that was given.
    pub value: String,
}

impl fmt::Display for PreferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown backend {:?}: accepted values are {}",
            self.value,
            Preference::ACCEPTED.join(", ")
        )
    }
}

impl std::error::Error for PreferenceError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimdLevel;

    #[test]
    fn unset_or_empty_is_auto() {
        assert_eq!(Preference::from_env_value(None), Ok(Preference::Auto));
        assert_eq!(
            Preference::from_env_value(Some(OsStr::new(""))),
            Ok(Preference::Auto)
        );
        assert_eq!(
            Preference::from_env_value(Some(OsStr::new("  "))),
            Ok(Preference::Auto)
        );
    }

    #[test]
    fn accepted_values_parse_in_any_case() {
        for (text, expected) in [
            ("auto", Preference::Auto),
            ("scalar", Preference::Scalar),
            ("SIMD", Preference::Simd),
            (" Gpu\n", Preference::Gpu),
        ] {
            assert_eq!(
                Preference::from_env_value(Some(OsStr::new(text))),
                Ok(expected)
            );
        }
        for name in Preference::ACCEPTED {
            assert_eq!(name.parse::<Preference>().unwrap().as_str(), name);
        }
    }

    #[test]
    fn anything_else_names_the_accepted_values() {
        let err = Preference::from_env_value(Some(OsStr::new("bogus"))).unwrap_err();
        assert_eq!(err.value, "bogus");
        let message = err.to_string();
        assert!(message.contains("bogus"), "{message}");
        for name in Preference::ACCEPTED {
            assert!(message.contains(name), "{message}");
        }
        assert!("avx2".parse::<Preference>().is_err());
    }

    #[cfg(unix)]
    #[test]
    fn non_unicode_value_is_an_error() {
        use std::os::unix::ffi::OsStrExt;
        let raw = OsStr::from_bytes(&[0x66, 0xff, 0x6f]);
        assert!(Preference::from_env_value(Some(raw)).is_err());
    }

    #[test]
    fn admits_only_the_forced_kind() {
        let simd = BackendKind::Simd(SimdLevel::Sse41);
        let kinds = [BackendKind::Scalar, simd, BackendKind::Gpu];
        assert!(kinds.iter().all(|&k| Preference::Auto.admits(k)));
        assert_eq!(
            kinds.map(|k| Preference::Scalar.admits(k)),
            [true, false, false]
        );
        assert_eq!(
            kinds.map(|k| Preference::Simd.admits(k)),
            [false, true, false]
        );
        assert_eq!(
            kinds.map(|k| Preference::Gpu.admits(k)),
            [false, false, true]
        );
        assert!(!Preference::Auto.is_forced());
        assert!(Preference::Gpu.is_forced());
    }
}
