//! The library's everyday edges (issue 13, item 4): `FromStr` on generated
//! enums, base URLs from the environment, one-level error messages with the
//! chain behind `source()`, per-request headers, untyped JSON calls and the
//! raw output beside the typed one, files given as paths or bytes.

use fal_ltx::error::ParseEnumError;
use fal_ltx::ltx_2_3::text_to_video::{AspectRatio, Duration as Seconds, Fps, Resolution};

/// Every listed value parses back from its `Display` text (the wire value).
fn round_trips<T>(all: &[T])
where
    T: std::str::FromStr<Err = ParseEnumError> + std::fmt::Display + PartialEq + std::fmt::Debug,
{
    for value in all {
        assert_eq!(&value.to_string().parse::<T>().expect("a listed value"), value);
    }
}

#[test]
fn generated_enums_parse_their_wire_values() {
    round_trips(Seconds::ALL);
    round_trips(Fps::ALL);
    round_trips(Resolution::ALL);
    round_trips(AspectRatio::ALL);
    assert_eq!("16:9".parse::<AspectRatio>(), Ok(AspectRatio::Ratio16x9));
    assert_eq!("8".parse::<Seconds>(), Ok(Seconds::Seconds8));
}

#[test]
fn an_unknown_enum_value_lists_the_accepted_ones() {
    let error = "720p".parse::<Resolution>().unwrap_err();
    assert_eq!(error.to_string(), "unknown Resolution `720p`: expected one of 1080p, 1440p, 2160p");
    assert_eq!(error.type_name(), "Resolution");
    assert_eq!(error.given(), "720p");
    // An integer enum takes the number as written, not a variant name or a padded number.
    let error = "Seconds8".parse::<Seconds>().unwrap_err();
    assert_eq!(error.accepted(), ["6", "8", "10"]);
    assert!(" 8".parse::<Seconds>().is_err());
}
