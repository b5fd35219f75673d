#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ironroot_ocicrypt::keyprovider::{
    parse_unwrap_response, parse_wrap_response, unwrap_response_json, wrap_response_json,
    KeyProviderError, Parameters, MAX_MESSAGE_LEN,
};
use ironroot_ocicrypt::{KeyProviderRequest, ProviderKeySpec, SecretBytes};

// The messages as ocicrypt (keywrap/keyprovider/keyprovider.go) writes them; "YXJncw==" is
// "args", "eyJzeW1rZXkiOiIifQ==" is {"symkey":""} and "d3JhcHBlZA==" is "wrapped".
const WRAP_REQUEST: &str = r#"{"op":"keywrap","keywrapparams":{"ec":{"Parameters":{"kbs":["YXJncw=="]},"DecryptConfig":{"Parameters":{}}},"optsdata":"eyJzeW1rZXkiOiIifQ=="},"keyunwrapparams":{"dc":null,"annotation":null}}"#;
const UNWRAP_REQUEST: &str = r#"{"op":"keyunwrap","keywrapparams":{"ec":null,"optsdata":null},"keyunwrapparams":{"dc":{"Parameters":{"kbs":["YXJncw=="]}},"annotation":"d3JhcHBlZA=="}}"#;

fn params(name: &str, arg: &[u8]) -> Parameters {
    let mut p = Parameters::new();
    p.insert(name.into(), vec![SecretBytes::from(arg)]);
    p
}

#[test]
fn parses_ocicrypt_wrap_request_and_writes_it_back_identically() {
    let req = KeyProviderRequest::from_json(WRAP_REQUEST.as_bytes()).unwrap();
    let KeyProviderRequest::Wrap {
        parameters,
        optsdata,
    } = &req
    else {
        panic!("not a wrap: {req:?}");
    };
    assert_eq!(parameters, &params("kbs", b"args"));
    assert_eq!(optsdata.expose(), br#"{"symkey":""}"#);
    assert_eq!(req.to_json().unwrap().as_slice(), WRAP_REQUEST.as_bytes());
}

#[test]
fn parses_ocicrypt_unwrap_request_and_writes_it_back_identically() {
    let req = KeyProviderRequest::from_json(UNWRAP_REQUEST.as_bytes()).unwrap();
    assert_eq!(
        req,
        KeyProviderRequest::Unwrap {
            parameters: params("kbs", b"args"),
            annotation: b"wrapped".to_vec(),
        }
    );
    assert_eq!(req.to_json().unwrap().as_slice(), UNWRAP_REQUEST.as_bytes());
}

#[test]
fn number_arrays_null_parameters_and_null_dc_are_accepted() {
    // CoCo's Rust provider writes Vec<u8> as arrays of numbers.
    let coco = r#"{"op":"keyunwrap","keywrapparams":{"ec":null,"optsdata":null},"keyunwrapparams":{"dc":{"Parameters":null},"annotation":[119,114,97,112,112,101,100]}}"#;
    let req = KeyProviderRequest::from_json(coco.as_bytes()).unwrap();
    assert_eq!(
        req,
        KeyProviderRequest::Unwrap {
            parameters: Parameters::new(),
            annotation: b"wrapped".to_vec(),
        }
    );
    let no_dc = UNWRAP_REQUEST.replace(r#"{"Parameters":{"kbs":["YXJncw=="]}}"#, "null");
    assert!(KeyProviderRequest::from_json(no_dc.as_bytes()).is_ok());
    let arr_params = WRAP_REQUEST.replace(r#"["YXJncw=="]"#, "[[97,114,103,115]]");
    let KeyProviderRequest::Wrap { parameters, .. } =
        KeyProviderRequest::from_json(arr_params.as_bytes()).unwrap()
    else {
        panic!("not a wrap");
    };
    assert_eq!(parameters, params("kbs", b"args"));
}

#[test]
fn missing_fields_unknown_fields_bad_op_and_oversize_are_refused() {
    let no_opts = WRAP_REQUEST.replace(r#""eyJzeW1rZXkiOiIifQ==""#, "null");
    assert!(matches!(
        KeyProviderRequest::from_json(no_opts.as_bytes()),
        Err(KeyProviderError::Missing("keywrapparams.optsdata"))
    ));
    let no_annotation = UNWRAP_REQUEST.replace(r#""d3JhcHBlZA==""#, "null");
    assert!(matches!(
        KeyProviderRequest::from_json(no_annotation.as_bytes()),
        Err(KeyProviderError::Missing("keyunwrapparams.annotation"))
    ));
    let extra = WRAP_REQUEST.replace(r#"{"op""#, r#"{"extra":1,"op""#);
    assert!(matches!(
        KeyProviderRequest::from_json(extra.as_bytes()),
        Err(KeyProviderError::Malformed(_))
    ));
    let bad_op = WRAP_REQUEST.replace("keywrap\"", "keyrewrap\"");
    assert!(matches!(
        KeyProviderRequest::from_json(bad_op.as_bytes()),
        Err(KeyProviderError::Malformed(_))
    ));
    let mut big = WRAP_REQUEST.as_bytes().to_vec();
    big.resize(MAX_MESSAGE_LEN + 1, b' ');
    assert!(matches!(
        KeyProviderRequest::from_json(&big),
        Err(KeyProviderError::TooLarge)
    ));
    assert!(matches!(
        parse_wrap_response(&big),
        Err(KeyProviderError::TooLarge)
    ));
}

#[test]
fn responses_round_trip_and_go_style_nulls_are_accepted() {
    let w = wrap_response_json(b"wrapped").unwrap();
    assert_eq!(w, br#"{"keywrapresults":{"annotation":"d3JhcHBlZA=="}}"#);
    assert_eq!(parse_wrap_response(&w).unwrap(), b"wrapped");
    let u = unwrap_response_json(br#"{"symkey":""}"#).unwrap();
    assert_eq!(
        u.as_slice(),
        br#"{"keyunwrapresults":{"optsdata":"eyJzeW1rZXkiOiIifQ=="}}"#
    );
    assert_eq!(
        parse_unwrap_response(&u).unwrap().expose(),
        br#"{"symkey":""}"#
    );
    // A Go provider sends both members.
    let go = br#"{"keywrapresults":{"annotation":null},"keyunwrapresults":{"optsdata":[123,125]}}"#;
    assert_eq!(parse_unwrap_response(go).unwrap().expose(), b"{}");
    assert!(matches!(
        parse_wrap_response(go),
        Err(KeyProviderError::Missing(_))
    ));
    assert!(parse_unwrap_response(b"{}").is_err());
}

#[test]
fn provider_key_spec_splits_on_first_colon() {
    let s = ProviderKeySpec::parse("provider:kbs:kbs:///default/key/1").unwrap();
    assert_eq!(s.name, "kbs");
    assert_eq!(s.args.expose(), b"kbs:///default/key/1");
    let s = ProviderKeySpec::parse("provider:attestation-agent").unwrap();
    assert_eq!(s.args.expose(), b"Enabled");
    let s2 = ProviderKeySpec::parse("provider:kbs:").unwrap();
    assert_eq!(s2.args.expose(), b"");
    for bad in ["jwe:key.pem", "provider:", "provider::x", "provider"] {
        assert!(ProviderKeySpec::parse(bad).is_err(), "{bad}");
    }
    let mut p = Parameters::new();
    s.add_to(&mut p);
    s.add_to(&mut p);
    assert_eq!(p["attestation-agent"].len(), 2);
}
