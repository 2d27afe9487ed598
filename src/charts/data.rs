//! Picking rows, ordering names, colours and number formats.

use super::*;

/// The rows of `endpoint` (any endpoint if `None`) at the highest concurrency
/// present, one per variant, in the kit's variant order.
pub(super) fn at_top_n<'a>(rows: &'a [Row], endpoint: Option<&str>) -> Option<(u64, Vec<&'a Row>)> {
    let mine: Vec<&Row> =
        rows.iter().filter(|r| endpoint.is_none_or(|e| r.endpoint == e)).collect();
    let n = mine.iter().map(|r| r.concurrency).max()?;
    let mut top: Vec<&Row> = mine.into_iter().filter(|r| r.concurrency == n).collect();
    if endpoint.is_some() {
        let order = ordered(&VARIANTS, top.iter().map(|r| r.variant.as_str()));
        top = order.iter().filter_map(|v| top.iter().copied().find(|r| r.variant == *v)).collect();
    }
    Some((n, top))
}

/// Distinct names, the known ones first in the kit's order, then the others
/// as they appear.
pub(super) fn ordered<'a>(known: &[&str], names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for name in names {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out.sort_by_key(|name| known.iter().position(|k| k == name).unwrap_or(known.len()));
    out
}

/// Red for the server with the fewest slots, green for the one with the most:
/// the same colour for a variant in every chart.
pub(super) fn variant_color(variant: &str) -> RGBColor {
    const OTHERS: [RGBColor; 6] = [
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    match variant {
        "sync-blocking" => RGBColor(214, 39, 40),
        "async-trap" => RGBColor(255, 127, 14),
        "blocking-wrapper" => RGBColor(31, 119, 180),
        "async-native" => RGBColor(44, 160, 44),
        // A hash of the name, not its position, so the colour is stable across charts.
        other => {
            let hash = other.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            OTHERS[(hash % OTHERS.len() as u64) as usize]
        }
    }
}

pub(super) fn variant_with_slots(row: &Row) -> String {
    match row.slots {
        Some(s) => format!("{}, s={s}", row.variant),
        None => format!("{}, s=∞", row.variant),
    }
}

pub(super) fn finite(v: f64) -> Option<f64> {
    (v.is_finite() && v >= 0.0).then_some(v)
}

pub(super) fn wide_range(values: impl Iterator<Item = f64>) -> bool {
    let (lo, hi) = values
        .filter(|v| *v > 0.0)
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    lo.is_finite() && hi / lo > LOG_RATIO
}

/// Axis ticks: no trailing zeros, and small values still distinguishable.
pub(super) fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 0.001 {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.0e}")
    }
}

/// Bar labels: three significant digits at most.
pub(super) fn fmt_value(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
