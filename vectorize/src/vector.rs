//! The traced result: shapes made of contours, with fill or stroke colour,
//! and compact SVG output.

use std::fmt::Write as _;

use rayon::prelude::*;

use crate::error::Error;
use crate::fit::{Contour, Point, Segment};

/// An sRGB colour with straight alpha.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Color {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Alpha (255 opaque).
    pub a: u8,
}

impl Color {
    /// Opaque black.
    pub const BLACK: Color = Color::rgb(0, 0, 0);
    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Self {
        Color { r, g, b, a: 255 }
    }
    /// Shortest SVG notation: `#abc` where it can, else `#aabbcc`.
    fn hex(&self) -> String {
        let short = [self.r, self.g, self.b].iter().all(|v| v >> 4 == v & 15);
        if short {
            format!("#{:x}{:x}{:x}", self.r & 15, self.g & 15, self.b & 15)
        } else {
            format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
        }
    }
}

/// A stroke: colour and width in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stroke {
    /// Colour.
    pub color: Color,
    /// Width in pixels.
    pub width: f64,
}

/// One shape: its contours (an outline and its holes, or open strokes),
/// filled with non-zero winding and/or stroked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shape {
    /// The contours; closed ones wind positive for outlines and negative for
    /// holes, so non-zero filling gives the traced region.
    pub contours: Vec<Contour>,
    /// Fill colour, if filled.
    pub fill: Option<Color>,
    /// Stroke, if stroked.
    pub stroke: Option<Stroke>,
}

/// A traced image: its size and shapes, painted in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Vector {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Shapes, back to front.
    pub shapes: Vec<Shape>,
}

/// SVG output options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SvgOptions {
    /// Decimal places of coordinates (0–6; default 1: 0.05 px at most).
    pub precision: u8,
    /// SVG user units per image pixel (1–100, default 1). The `viewBox`
    /// grows by this factor while `width` and `height` stay the image's,
    /// so the picture is the same size; coordinates are rounded in user
    /// units. With `precision: 0`, 2 rounds to half pixels in integers:
    /// between 0 and 1 decimal in both bytes and accuracy (potrace writes
    /// 10 units a pixel this way).
    pub units_per_pixel: u8,
}

impl Default for SvgOptions {
    fn default() -> Self {
        SvgOptions {
            precision: 1,
            units_per_pixel: 1,
        }
    }
}

impl Vector {
    /// Number of segments over all shapes (lines and Béziers).
    pub fn segment_count(&self) -> usize {
        self.shapes
            .iter()
            .flat_map(|s| &s.contours)
            .map(|c| c.segments.len())
            .sum()
    }

    /// Compact SVG: `<path>` elements with relative coordinates rounded to
    /// `precision` decimals (rounding does not accumulate: each relative
    /// step is taken between rounded absolute points), one per shape,
    /// except that consecutive shapes with the same opaque fill and no
    /// stroke share one (every shape winds 0 or 1 about each point, so
    /// non-zero filling of the joined path paints their union, as painting
    /// them one by one would): a binary tracing is a single element.
    ///
    /// ```
    /// use vivace_vectorize::fit::{Contour, Point, Segment};
    /// use vivace_vectorize::vector::{Color, Shape, SvgOptions, Vector};
    /// let square = Contour {
    ///     start: Point::new(1.0, 1.0),
    ///     segments: [(3.0, 1.0), (3.0, 3.0), (1.0, 3.0), (1.0, 1.0)]
    ///         .map(|(x, y)| Segment::Line(Point::new(x, y)))
    ///         .to_vec(),
    ///     closed: true,
    /// };
    /// let v = Vector {
    ///     width: 4,
    ///     height: 4,
    ///     shapes: vec![Shape { contours: vec![square], fill: Some(Color::BLACK), stroke: None }],
    /// };
    /// let svg = v.to_svg(&SvgOptions::default())?;
    /// assert!(svg.contains(r##"<path d="M1 1h2v2h-2z" fill="#000"/>"##), "{svg}");
    /// # Ok::<(), vivace_vectorize::Error>(())
    /// ```
    pub fn to_svg(&self, options: &SvgOptions) -> Result<String, Error> {
        if options.precision > 6 {
            return Err(Error::InvalidParameter {
                name: "precision",
                reason: format!("must be 0–6 decimals, got {}", options.precision),
            });
        }
        if !(1..=100).contains(&options.units_per_pixel) {
            return Err(Error::InvalidParameter {
                name: "units_per_pixel",
                reason: format!("must be 1–100, got {}", options.units_per_pixel),
            });
        }
        let k = usize::from(options.units_per_pixel);
        let mut out = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {vw} {vh}">"#,
            w = self.width,
            h = self.height,
            vw = self.width * k,
            vh = self.height * k,
        );
        let scale = 10f64.powi(i32::from(options.precision));
        let units = f64::from(options.units_per_pixel);
        // Each shape's path data on its own (in parallel), then in order,
        // joined while the paint stays the same.
        let data: Vec<String> = self
            .shapes
            .par_iter()
            .map(|shape| {
                let mut d = PathData::new(scale, units);
                for c in &shape.contours {
                    d.contour(c);
                }
                d.text
            })
            .collect();
        out.reserve(data.iter().map(|d| d.len() + 32).sum::<usize>() + 8);
        let mut k = 0;
        while k < self.shapes.len() {
            let shape = &self.shapes[k];
            let mut end = k + 1;
            if shape.stroke.is_none() && shape.fill.is_some_and(|f| f.a == 255) {
                while end < self.shapes.len()
                    && self.shapes[end].stroke.is_none()
                    && self.shapes[end].fill == shape.fill
                {
                    end += 1;
                }
            }
            // A shape without contours writes nothing.
            if data[k..end].iter().any(|d| !d.is_empty()) {
                out.push_str(r#"<path d=""#);
                for d in &data[k..end] {
                    out.push_str(d);
                }
                out.push('"');
                push_paint(&mut out, shape, units);
                out.push_str("/>");
            }
            k = end;
        }
        out.push_str("</svg>\n");
        Ok(out)
    }
}

/// A shape's fill and stroke attributes (stroke widths in user units,
/// `units` to a pixel).
fn push_paint(out: &mut String, shape: &Shape, units: f64) {
    match shape.fill {
        Some(fill) => {
            let _ = write!(out, r#" fill="{}""#, fill.hex());
            if fill.a != 255 {
                let _ = write!(out, r#" fill-opacity="{}""#, alpha(fill.a));
            }
        }
        None => out.push_str(r#" fill="none""#),
    }
    if let Some(s) = shape.stroke {
        let _ = write!(
            out,
            r#" stroke="{}" stroke-width="{}" stroke-linecap="round" stroke-linejoin="round""#,
            s.color.hex(),
            number(s.width * units, 100.0)
        );
        if s.color.a != 255 {
            let _ = write!(out, r#" stroke-opacity="{}""#, alpha(s.color.a));
        }
    }
}

fn alpha(a: u8) -> String {
    number(f64::from(a) / 255.0, 1000.0)
}

/// `v` rounded to 1/`scale`, without trailing zeros or a leading `0`.
fn number(v: f64, scale: f64) -> String {
    let units = (v * scale).round() as i64;
    let mut s = String::new();
    push_number(&mut s, units, scale);
    s
}

/// Writes `units / scale` compactly. Digits are written by hand: this runs
/// for every coordinate of the SVG, and `write!` cost a tenth of a binary
/// trace.
fn push_number(out: &mut String, units: i64, scale: f64) {
    if units == 0 {
        out.push('0');
        return;
    }
    if units < 0 {
        out.push('-');
    }
    let u = units.unsigned_abs();
    // The power of ten `scale` is, without a logarithm per number.
    let (mut p, mut decimals) = (1u64, 0usize);
    while (p as f64) < scale {
        p *= 10;
        decimals += 1;
    }
    let (int, mut frac) = (u / p, u % p);
    if int != 0 || frac == 0 {
        push_digits(out, int, 1);
    }
    if frac != 0 {
        let mut width = decimals;
        while frac % 10 == 0 {
            frac /= 10;
            width -= 1;
        }
        out.push('.');
        push_digits(out, frac, width);
    }
}

/// Writes `n` in decimal, zero-padded to at least `width` digits.
fn push_digits(out: &mut String, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut first = digits.len();
    while n > 0 {
        first -= 1;
        digits[first] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let first = first.min(digits.len() - width.min(digits.len()));
    for &d in &digits[first..] {
        out.push(char::from(d));
    }
}

/// Builds path data with relative commands between rounded points.
struct PathData {
    text: String,
    /// Rounding steps per user unit (10^precision).
    scale: f64,
    /// Rounding steps per pixel (`scale` × user units per pixel).
    step: f64,
    /// The current point, in rounded units.
    at: (i64, i64),
    /// The last command letter written (to leave out repeats).
    last: u8,
    /// Where each number is written before it joins `text` (reused: one
    /// allocation per path, not per number).
    number: String,
}

impl PathData {
    fn new(scale: f64, units_per_pixel: f64) -> Self {
        PathData {
            text: String::new(),
            scale,
            step: scale * units_per_pixel,
            at: (0, 0),
            last: 0,
            number: String::new(),
        }
    }

    fn units(&self, p: Point) -> (i64, i64) {
        (
            (p.x * self.step).round() as i64,
            (p.y * self.step).round() as i64,
        )
    }

    fn command(&mut self, c: u8) {
        // A repeated command may be left out, except after moveto (whose
        // repeats mean lineto).
        if c != self.last || c == b'M' || c == b'm' {
            self.text.push(c as char);
            self.last = c;
        }
    }

    /// Appends numbers, separated only where needed.
    fn numbers(&mut self, values: &[i64], first_after_command: bool) {
        let mut s = std::mem::take(&mut self.number);
        for (k, &v) in values.iter().enumerate() {
            s.clear();
            push_number(&mut s, v, self.scale);
            // A sign, a command letter, or a `.` after a fraction separates.
            let separated = s.starts_with('-')
                || (k == 0 && first_after_command)
                || (s.starts_with('.') && self.text_ends_in_fraction());
            let needs_space = !separated;
            if needs_space {
                self.text.push(' ');
            }
            self.text.push_str(&s);
        }
        self.number = s;
    }

    /// Whether the text ends in a number with a decimal point (so a
    /// following `.5` can abut it).
    fn text_ends_in_fraction(&self) -> bool {
        let tail = self
            .text
            .rsplit(|c: char| !(c.is_ascii_digit() || c == '.'))
            .next()
            .unwrap_or("");
        tail.contains('.')
    }

    fn emit(&mut self, c: u8, rel: &[i64]) {
        let before = self.last;
        self.command(c);
        let fresh = self.last != before || c == b'm' || c == b'M';
        self.numbers(rel, fresh && self.text.ends_with(c as char));
    }

    fn contour(&mut self, contour: &Contour) {
        let start = self.units(contour.start);
        if self.text.is_empty() {
            self.command(b'M');
            self.numbers(&[start.0, start.1], true);
        } else {
            self.emit(b'm', &[start.0 - self.at.0, start.1 - self.at.1]);
        }
        self.at = start;
        let n = contour.segments.len();
        for (k, s) in contour.segments.iter().enumerate() {
            match *s {
                Segment::Line(p) => {
                    let p = self.units(p);
                    // A closing line is drawn by `z`.
                    if contour.closed && k == n - 1 && p == start {
                        continue;
                    }
                    let (dx, dy) = (p.0 - self.at.0, p.1 - self.at.1);
                    match (dx, dy) {
                        (0, 0) => {}
                        (_, 0) => self.emit(b'h', &[dx]),
                        (0, _) => self.emit(b'v', &[dy]),
                        _ => self.emit(b'l', &[dx, dy]),
                    }
                    self.at = p;
                }
                Segment::Cubic(c1, c2, p) => {
                    let (c1, c2, p) = (self.units(c1), self.units(c2), self.units(p));
                    let a = self.at;
                    self.emit(
                        b'c',
                        &[
                            c1.0 - a.0,
                            c1.1 - a.1,
                            c2.0 - a.0,
                            c2.1 - a.1,
                            p.0 - a.0,
                            p.1 - a.1,
                        ],
                    );
                    self.at = p;
                }
            }
        }
        if contour.closed {
            self.command(b'z');
            self.at = start;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compact() {
        let cases = [
            (0, 10.0, "0"),
            (5, 10.0, ".5"),
            (-5, 10.0, "-.5"),
            (15, 10.0, "1.5"),
            (20, 10.0, "2"),
            (-120, 100.0, "-1.2"),
            (7, 1.0, "7"),
            (1005, 1000.0, "1.005"),
        ];
        for (units, scale, want) in cases {
            assert_eq!(number(units as f64 / scale, scale), want);
        }
    }

    proptest::proptest! {
        /// The hand-written digits equal `format!`'s (integer part, then
        /// the fraction zero-padded to the precision, trailing zeros cut).
        #[test]
        fn hand_written_digits_match_format(units in proptest::num::i64::ANY, decimals in 0u32..5) {
            let units = units / 1000;
            let p = 10u64.pow(decimals);
            let mut got = String::new();
            push_number(&mut got, units, p as f64);
            let (u, sign) = (units.unsigned_abs(), if units < 0 { "-" } else { "" });
            let (int, frac) = (u / p, u % p);
            let int = if int != 0 || frac == 0 { int.to_string() } else { String::new() };
            let frac = if frac == 0 {
                String::new()
            } else {
                let padded = format!("{frac:0width$}", width = decimals as usize);
                format!(".{}", padded.trim_end_matches('0'))
            };
            let want = if units == 0 { "0".to_string() } else { format!("{sign}{int}{frac}") };
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn colours_use_the_short_form_where_exact() {
        assert_eq!(Color::rgb(0x11, 0x22, 0xff).hex(), "#12f");
        assert_eq!(Color::rgb(0x10, 0x22, 0xff).hex(), "#1022ff");
    }

    #[test]
    fn relative_steps_do_not_drift() {
        // 100 steps of 0.33 px: rounded to 0.1, each step alone would be .3
        // and the end 30 instead of 33.
        let c = Contour {
            start: Point::new(0.0, 0.0),
            segments: (1..=100)
                .map(|k| Segment::Line(Point::new(0.33 * k as f64, k as f64)))
                .collect(),
            closed: false,
        };
        let mut d = PathData::new(10.0, 1.0);
        d.contour(&c);
        assert_eq!(d.at, (330, 1000));
        // Tokenise the numbers after `M0 0l` and add up the x steps.
        let mut numbers: Vec<String> = Vec::new();
        for ch in d.text["M0 0l".len()..].chars() {
            let starts = ch == ' '
                || ch == '-'
                || (ch == '.' && numbers.last().is_some_and(|n| n.contains('.')));
            if starts || numbers.is_empty() {
                numbers.push(String::new());
            }
            if ch != ' ' {
                numbers.last_mut().unwrap().push(ch);
            }
        }
        let sum: f64 = numbers
            .iter()
            .step_by(2)
            .map(|s| s.parse::<f64>().unwrap())
            .sum();
        assert_eq!(numbers.len(), 200, "{}", d.text);
        assert!((sum - 33.0).abs() < 1e-9, "{} sums to {sum}", d.text);
    }

    /// A closed axis-aligned rectangle, counter-clockwise on screen
    /// (`outline`) or clockwise (a hole).
    fn rectangle(x0: f64, y0: f64, x1: f64, y1: f64, outline: bool) -> Contour {
        let mut corners = vec![(x0, y1), (x1, y1), (x1, y0), (x0, y0)];
        if !outline {
            corners.reverse();
            corners.rotate_left(1);
        }
        Contour {
            start: Point::new(x0, y0),
            segments: corners
                .into_iter()
                .map(|(x, y)| Segment::Line(Point::new(x, y)))
                .collect(),
            closed: true,
        }
    }

    #[test]
    fn consecutive_shapes_of_one_opaque_fill_share_a_path() {
        // A ring (outline and hole), an island in its hole and a square
        // beside it, all black; then a grey square, a translucent one
        // twice over, and a black one again.
        let shape = |contours: Vec<Contour>, fill: Color| Shape {
            contours,
            fill: Some(fill),
            stroke: None,
        };
        let grey = Color {
            r: 128,
            g: 128,
            b: 128,
            a: 255,
        };
        let faint = Color {
            a: 128,
            ..Color::BLACK
        };
        let v = Vector {
            width: 32,
            height: 16,
            shapes: vec![
                shape(
                    vec![
                        rectangle(1.0, 1.0, 15.0, 15.0, true),
                        rectangle(4.0, 4.0, 12.0, 12.0, false),
                    ],
                    Color::BLACK,
                ),
                shape(vec![rectangle(6.0, 6.0, 10.0, 10.0, true)], Color::BLACK),
                shape(vec![rectangle(17.0, 1.0, 20.0, 4.0, true)], Color::BLACK),
                shape(vec![rectangle(17.0, 5.0, 20.0, 8.0, true)], grey),
                shape(vec![rectangle(21.0, 5.0, 24.0, 8.0, true)], faint),
                shape(vec![rectangle(21.0, 9.0, 24.0, 12.0, true)], faint),
                shape(vec![rectangle(25.0, 5.0, 28.0, 8.0, true)], Color::BLACK),
            ],
        };
        let svg = v.to_svg(&SvgOptions::default()).unwrap();
        // Black ×3 joined, grey, faint, faint (translucent: not joined,
        // overlaps would blend twice), black.
        assert_eq!(svg.matches("<path").count(), 5, "{svg}");
        assert_eq!(svg.matches(r##"fill="#000""##).count(), 4, "{svg}");
        #[cfg(feature = "quality")]
        {
            let px = crate::quality::render_svg(&svg, 32, 16).unwrap();
            // Coverage (alpha) at pixel centres away from the edges.
            let at = |x: usize, y: usize| px[(y * 32 + x) * 4 + 3];
            assert_eq!(at(2, 2), 255, "the ring is filled");
            assert_eq!(at(5, 5), 0, "its hole is not");
            assert_eq!(at(8, 8), 255, "the island in the hole is filled");
            assert_eq!(at(18, 2), 255, "the square beside it is filled");
        }
    }

    /// Two user units a pixel at 0 decimals: the viewBox doubles, the
    /// picture keeps its size, half-pixel coordinates are kept exactly as
    /// at 1 decimal, and stroke widths double with the coordinates.
    #[test]
    fn units_per_pixel_scales_the_view_box_not_the_picture() {
        let v = Vector {
            width: 12,
            height: 10,
            shapes: vec![
                Shape {
                    contours: vec![rectangle(1.5, 1.5, 6.5, 8.5, true)],
                    fill: Some(Color::BLACK),
                    stroke: None,
                },
                Shape {
                    contours: vec![Contour {
                        start: Point::new(8.5, 1.0),
                        segments: vec![Segment::Line(Point::new(8.5, 9.0))],
                        closed: false,
                    }],
                    fill: None,
                    stroke: Some(Stroke {
                        color: Color::BLACK,
                        width: 1.5,
                    }),
                },
            ],
        };
        let halves = SvgOptions {
            precision: 0,
            units_per_pixel: 2,
        };
        let svg = v.to_svg(&halves).unwrap();
        assert!(
            svg.contains(r#"width="12" height="10" viewBox="0 0 24 20""#),
            "{svg}"
        );
        assert!(svg.contains(r#"stroke-width="3""#), "{svg}");
        let data = svg
            .split(r#" d=""#)
            .skip(1)
            .map(|d| &d[..d.find('"').unwrap()]);
        assert!(
            data.into_iter().all(|d| !d.contains('.')),
            "integers only: {svg}"
        );
        #[cfg(feature = "quality")]
        {
            let plain = v.to_svg(&SvgOptions::default()).unwrap();
            assert_eq!(
                crate::quality::render_svg(&svg, 12, 10).unwrap(),
                crate::quality::render_svg(&plain, 12, 10).unwrap()
            );
        }
    }

    #[test]
    fn precision_is_checked() {
        let v = Vector::default();
        let with = |precision, units_per_pixel| SvgOptions {
            precision,
            units_per_pixel,
        };
        assert!(v.to_svg(&with(7, 1)).is_err());
        assert!(v.to_svg(&with(0, 1)).is_ok());
        assert!(v.to_svg(&with(1, 0)).is_err());
        assert!(v.to_svg(&with(1, 101)).is_err());
        assert!(v.to_svg(&with(0, 100)).is_ok());
    }
}
