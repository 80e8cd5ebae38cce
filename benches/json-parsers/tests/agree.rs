#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
//! The three typed decoders give the same requests on the real bodies, and
//! the same verdict on every strictness case where serde_json refuses.

use cansend_json_parsers::*;

#[test]
fn single_decodes_alike() {
    let a = format!("{:?}", serde_single(SINGLE).unwrap());
    assert_eq!(a, format!("{:?}", sonic_single(SINGLE).unwrap()));
    assert_eq!(a, format!("{:?}", simd_single(SINGLE).unwrap()));
    // Serialized back, too (the Map keeps the body's key order).
    let v = serde_json::to_value(serde_single(SINGLE).unwrap()).unwrap();
    assert_eq!(v, serde_json::to_value(sonic_single(SINGLE).unwrap()).unwrap());
    assert_eq!(v, serde_json::to_value(simd_single(SINGLE).unwrap()).unwrap());
}

#[test]
fn batch_decodes_alike() {
    let a = serde_batch(BATCH100).unwrap();
    assert_eq!(a.len(), 100);
    let a = format!("{a:?}");
    assert_eq!(a, format!("{:?}", sonic_batch(BATCH100).unwrap()));
    assert_eq!(a, format!("{:?}", simd_batch(BATCH100).unwrap()));
}

#[test]
fn untyped_values_agree() {
    for body in [SINGLE, BATCH100] {
        let s: serde_json::Value = serde_json::from_slice(body).unwrap();
        let sonic: sonic_rs::Value = sonic_rs::from_slice(body).unwrap();
        let simd = simd_json::to_owned_value(&mut body.to_vec()).unwrap();
        assert_eq!(s, serde_json::from_str::<serde_json::Value>(&sonic_rs::to_string(&sonic).unwrap()).unwrap());
        assert_eq!(s, serde_json::from_str::<serde_json::Value>(&simd_json::to_string(&simd).unwrap()).unwrap());
    }
}

#[test]
fn strictness_as_recorded_in_the_readme() {
    // Every case the service refuses, sonic-rs and simd-json refuse too,
    // except those listed here.
    for case in cases() {
        let accepted = case.what.starts_with("(accepted)");
        let [(_, s), (_, sonic), (_, simd)] = outcomes(&case.body);
        assert_eq!(s.is_ok(), accepted, "serde_json: {}", case.what);
        let sonic_differs = case.what == "attributes nested 200 deep";
        let simd_differs = case.what.starts_with("lone surrogate") || case.what.starts_with("attributes nested") && !accepted;
        assert_eq!(sonic.is_ok(), accepted || sonic_differs, "sonic-rs: {}", case.what);
        assert_eq!(simd.is_ok(), accepted || simd_differs, "simd-json: {}", case.what);
    }
}

#[test]
fn simd_json_reads_a_lone_surrogate_as() {
    let body = br#"{"sender": {"role": "agent"}, "client": {"status": "new"}, "channel": "email", "message": {"text": "a\ud800b"}}"#;
    let text = simd_single(body).unwrap().message.text.unwrap();
    println!("simd-json: \"a\\ud800b\" -> {:?} (bytes {:02x?})", text, text.as_bytes());
    assert!(serde_single(body).is_err());
    assert!(sonic_single(body).is_err());
}
