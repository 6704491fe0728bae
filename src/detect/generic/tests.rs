//! The lexical classifier and the non-secret values, case by case.

use super::*;
use crate::rules::examples::{expand, Rng};

/// A random key-like value, made at run time so that this file holds
/// nothing key-shaped.
fn random_value() -> String {
    expand("{{b62:20}}", &mut Rng::seeded(7)).unwrap()
}

/// `is_literal` for `line`, with the name and value given as substrings.
fn literal(line: &str, name: &str, value: &str) -> bool {
    literal_after("", line, name, value)
}

/// `is_literal` for `line` under the text `preceding`.
fn literal_after(preceding: &str, line: &str, name: &str, value: &str) -> bool {
    let name_at = line.find(name).expect("name in line");
    let value_at = line[name_at + name.len()..]
        .find(value)
        .expect("value in line")
        + name_at
        + name.len();
    is_literal(&ValueSite {
        preceding: preceding.as_bytes(),
        line: line.as_bytes(),
        name: Some((name_at, name_at + name.len())),
        value: (value_at, value_at + value.len()),
    })
}

/// A doctest's prompt line and the output printed under it are
/// documentation; after the blank line that ends the example, code again.
#[test]
fn doctests_are_documentation() {
    let v = &random_value();
    let prompt = "    >>> session = OAuth1Session(key)\n    >>> session.fetch_token(url)\n    {\n";
    let output = format!("        'oauth_token_secret': '{v}',");
    assert!(!literal_after(prompt, &output, "oauth_token_secret", v));
    let call = format!("    >>> s = Session(client_secret='{v}')");
    assert!(!literal_after("", &call, "client_secret", v));
    // The example ended: a blank line, then code.
    let after = format!("{prompt}    }}\n\n    token_secret = '{v}'\n");
    let code = format!("    token_secret = '{v}'");
    assert!(literal_after(
        &after[..after.len() - code.len() - 1],
        &code,
        "token_secret",
        v
    ));
    // `>>>` in the middle of a line is a shift, not a prompt.
    let shift = format!("x = y >>> 2\napi_secret = '{v}'");
    let (before, line) = shift.split_at(shift.find("api_secret").unwrap());
    assert!(literal_after(before, line, "api_secret", v));
}

#[test]
fn literals_in_code_and_config_count() {
    let v = &random_value();
    for line in [
        format!("api_key = \"{v}\""),
        format!("DB_PASSWORD={v}"),
        format!("  client_secret: {v}  # rotated"),
        format!("\"auth_token\": \"{v}\","),
        format!("const apiKey = `{v}`;"),
        format!("req.Header.Set(\"x-api-key\", \"{v}\")"),
        format!("os.environ[\\\"CLIENT_SECRET\\\"] = \\\"{v}\\\""),
        format!("SECRET_KEY=k9(#x{v}!2)@"),
    ] {
        let name = [
            "api_key",
            "DB_PASSWORD",
            "client_secret",
            "auth_token",
            "apiKey",
            "x-api-key",
            "CLIENT_SECRET",
            "SECRET_KEY",
        ]
        .into_iter()
        .find(|n| line.contains(n))
        .unwrap();
        let value = if line.starts_with("SECRET_KEY") {
            &line[11..]
        } else {
            v
        };
        assert!(literal(&line, name, value), "{line}");
    }
}

#[test]
fn expressions_prose_and_markup_do_not() {
    for (line, name, value) in [
        ("Status.KubeadminPassword = &corev1.LocalObjectReference{", "KubeadminPassword", "&corev1.LocalObjectReference"),
        ("var _ GetPasswordDataAPIClient = (*Client)(nil)", "GetPasswordDataAPIClient", "(*Client)(nil)"),
        ("passwd = strings.NewReader(input)", "passwd", "strings.NewReader(input)"),
        ("Credentials: credProvider,", "Credentials", "credProvider"),
        ("env = append(env, \"PWD=\"+cmd.Dir)", "PWD", "\"+cmd.Dir"),
        ("credentials = base64.b64encode(f'{self.email}:{self.token}')", "credentials", "base64.b64encode(f'{self.email}:{self.token}')"),
        ("token = f'{prefix}-{suffix}-value'", "token", "{prefix}-{suffix}-value"),
        ("\"The admin interface allows access without a password.\": \"Mot de passe requis ici\"", "password.", "Mot de passe requis ici"),
        ("\"password\": \"Mot de passe\"", "password", "Mot de passe"),
        ("{\"Set Password\", \"qQuit\"}", "Password", "qQuit"),
        ("token = \"<span>ab12cd34ef</span>\"", "token", "<span>ab12cd34ef</span>"),
        // A file and what was said about it, not a key.
        ("    /etc/passwd: 5f0c2a91d7e4b38a6c1f9e02d4b7a853", "passwd", "5f0c2a91d7e4b38a6c1f9e02d4b7a853"),
    ] {
        assert!(!literal(line, name, value), "{line}");
    }
}

#[test]
fn a_pair_is_a_header_only_with_a_quoted_name() {
    let v = random_value();
    assert!(literal(
        &format!("h.set(\"x-api-key\", \"{v}\")"),
        "x-api-key",
        &v
    ));
    assert!(!literal(
        &format!("assert_eq!(out.secret, \"{v}\")"),
        "secret",
        &v
    ));
}

#[test]
fn a_concatenated_string_is_not_a_literal() {
    let v = random_value();
    assert!(!literal(
        &format!("secret = \"{v}\" + suffix"),
        "secret",
        &v
    ));
}

#[test]
fn minified_lines_are_not_read() {
    let v = random_value();
    let line = format!("{}api_key=\"{v}\"", "x;".repeat(MAX_CODE_LINE));
    assert!(!literal(&line, "api_key", &v));
}

#[test]
fn public_and_derived_values_are_not_secrets() {
    let encode = crate::decode::encode_base64;
    for value in [
        "{SSHA}K2vFb0q2jT0bM1n9a8c7d6e5f4g3h2i1",
        "$2b$12$abcdefghijklmnopqrstuv1234567890ABCDEFGHIJKLMNOPQR",
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g",
        "pbkdf2_sha256$600000$salt$hash=",
        "*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29",
        "AAAAC3NzaC1lZDI1NTE5AAAAIPjJby3xFaEPRohlxkZ",
        "arn:aws:lambda:us-east-1:123456789012:function:MyFunction",
        "2016-09-08T21:47:36Z",
        "urn:oid:2.5.4.35",
        "2YotnFZFEjr1zCsicMWpAA",
        &format!(
            "{}{}",
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq",
            "/K1SZFPTOtr/KBHBeksoGMGw=="
        ),
        &encode(b"secret is secure"),
        &encode(b"test:test"),
        &encode(b"AWS:878787878787-auth-token"),
        // DER messages: SPNEGO's NegTokenResp, in base64 behind its scheme and in hex.
        "Negotiate oRQwEqADCgEAoQsGCSqGSIb3EgECAg==",
        "a1143012a0030a0100a10b06092a864886f712010202",
        &encode(b"mysteriousPaginationToken"),
        &format!("k8s-aws-v1.{}", encode(b"http://example.com")),
    ] {
        assert!(is_known_non_secret(value.as_bytes()), "{value}");
    }
    for code in [
        "\".addcslashes($F,\"",
        "' + user + '",
        // What joins two strings, quoted as if a value by the quotes around it.
        ".base64_encode($oci_pki_swiftproxy_key).",
        " + user.name + ",
        "(*Client)(nil)",
        "+cmd.Dir",
        "utils.getSafeProp(",
        // Regular expressions for a secret's shape.
        "([a-zA-Z0-9-_]+)",
        r"^\d{6}$",
        "(?:Bearer )?(.+)",
    ] {
        assert!(is_known_non_secret(code.as_bytes()), "{code}");
    }
    let v = random_value();
    for value in [
        v.as_str(),
        &encode(format!("deploy:{v}").as_bytes()),
        &encode(&[0x9f, 0x12, 0xee, 0x01, 0x7a, 0xc3, 0x55, 0x80, 0x11]),
        &format!(
            "k8s-aws-v1.{}",
            encode(format!("https://sts/?X-Amz-Signature={v}").as_bytes())
        ),
    ] {
        assert!(!is_known_non_secret(value.as_bytes()), "{value}");
    }
}

#[test]
fn person_made_values_are_not_secrets() {
    let v = random_value();
    for value in [
        "s00pers3cret".to_string(),
        "This-is-my-test-99!".to_string(),
        "Sup3rS3cret".to_string(),
        crate::decode::encode_base64(b"sdkfjhaslkdjfhaslkdjfhalskdjfh"),
        "1bcdefghij2bcdefghij3bcdefghij".to_string(),
        "a1B2c3D4e5F6g7H8".to_string(),
        format!("{}{}", &v[..8], &v[..8]),
        "jwk_ec_key_secp256k1.json".to_string(),
        format!("eyJ{}.e30.", &v),
        // Leetspeak with `@` and `$` inside the word, and values typed at
        // a keyboard (see `randomness::is_typed_by_hand`).
        "Sup3rS3cr3tP@ss".to_string(),
        "fjdksla93jfkd8slaghf".to_string(),
        "0badcafe9d1e2beef7a4f7a9c3b2e15d".to_string(),
        // Counting up or down (see `randomness::has_straight`).
        "tR7k23456".to_string(),
        "Lp8vutsrq".to_string(),
    ] {
        assert!(is_known_non_secret(value.as_bytes()), "{value}");
    }
    assert!(!is_known_non_secret(v.as_bytes()));
}

#[test]
fn doc_comments_and_badges_are_not_read() {
    let v = random_value();
    for (line, name) in [
        (
            format!(" *     WebIdentityToken: '{v}', // from the identity service"),
            "WebIdentityToken",
        ),
        (format!("#   user.password = '{v}'"), "password"),
        (
            format!("[cover]: https://codecov.io/gh/o/r/graph/badge.svg?token={v}"),
            "token",
        ),
    ] {
        assert!(!literal(&line, name, &v), "{line}");
    }
    // A commented-out assignment is still a key in the file.
    assert!(literal(&format!("# API_KEY={v}"), "API_KEY", &v));
}

/// One base64 key in 32 starts with `+` or `/`: it is still a key (of
/// a length base64 has: 20 characters here).
#[test]
fn base64_keys_with_a_leading_sign_are_not_code_or_paths() {
    let v = random_value();
    for value in [
        format!("+{}", &v[..19]),
        format!("/{}", &v[..19]),
        format!("/{}/{}", &v[..8], &v[10..]),
    ] {
        assert!(!is_known_non_secret(value.as_bytes()), "{value}");
        assert!(
            crate::detect::allowlist::looks_like_credential(value.as_bytes(), Some(b"api_key")),
            "{value}"
        );
    }
    assert!(!crate::detect::allowlist::looks_like_credential(
        b"/usr/local/share/keys",
        Some(b"api_key")
    ));
}

/// Generated values of every length a person might pick pass the loose
/// rules' value checks, whatever their capitals (the example tests draw a
/// few; this draws thousands, from a fixed seed so a failure repeats).
#[test]
fn random_values_pass_the_value_checks() {
    let mut rng = Rng::seeded(0x6b67);
    // Under a password's name a value mixing three kinds of character
    // always counts; under other names some random mixed-case draws still
    // split into word-shaped pieces (`ryR499Jokczxh`): about one in 200.
    // A key a machine made holds 64 bits or more: from 12 characters of
    // base62 and 16 hex digits (shorter is made up, unless a password).
    for (name, budget_per_mille) in [(&b"password"[..], 1), (b"api_key", 10)] {
        let mut rejected = Vec::new();
        let draws = 4000;
        for i in 0..draws {
            let (alphabet, shortest) = [("b62", 12), ("hex", 16)][i % 2];
            let value = crate::rules::examples::random_string(
                crate::rules::examples::alphabet(alphabet).expect("a template alphabet"),
                shortest + i % 29,
                &mut rng,
            );
            let bytes = value.as_bytes();
            if is_known_non_secret(bytes)
                || !crate::detect::allowlist::looks_like_credential(bytes, Some(name))
            {
                rejected.push(value);
            }
        }
        assert!(
            rejected.len() * 1000 <= draws * budget_per_mille,
            "{} of {draws} rejected, e.g. {:?}",
            rejected.len(),
            &rejected[..rejected.len().min(8)]
        );
    }
}

/// A quoted pair is a header only as a call's first two arguments, under a
/// name a header could have.
#[test]
fn a_pair_is_a_header_only_as_call_arguments() {
    let v = random_value();
    assert!(literal(
        &format!("headers.set('x-auth-token', '{v}')"),
        "x-auth-token",
        &v
    ));
    for (line, name) in [
        (
            format!("mocker.patch(\"stripe.api_key\", \"{v}\")"),
            "stripe.api_key",
        ),
        (format!("\t\t{{\"secret\", \"{v}\"}},"), "secret"),
    ] {
        assert!(!literal(&line, name, &v), "{line}");
    }
}

/// Documented values, test-made values and encodings of text, each by its
/// mechanism (the secrets are built at run time).
#[test]
fn documented_made_up_and_encoded_values_are_not_secrets() {
    let encode = crate::decode::encode_base64;
    for value in [
        // RFC 5849 section 3.5.1, RFC 6749 section 7.1.
        "0685bd9184jfhq22".to_string(),
        "h480djs93hd8".to_string(),
        "mF_9.B5f-4.1JqM".to_string(),
        // RFC 8555: a challenge token, and a key authorization.
        "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA".to_string(),
        "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
            .to_string(),
        // MinIO's playground, Stripe's API reference.
        ["zuf+tfteSlswRu7BJ86w", "ekitnifILbZam1KYY3TG"].concat(),
        ["sk_", "test_", "BQokikJOvBiI2HlWgH4olfQ2"].concat(),
        // python-gitlab's documentation, bare and as a personal access token.
        ["JVNSESs8", "EwWRx5yDxM5q"].concat(),
        ["glpat-", "JVNSESs8", "EwWRx5yDxM5q"].concat(),
        // GIPHY's public beta key.
        ["dc6zaTOx", "FJmzC"].concat(),
        // AWS's SigV4 test suite.
        [
            "6e86291e8372ff2a2260956d9b8aae1d",
            "763fbf315fa00fa31553b73ebf194267",
        ]
        .concat(),
        // A sentence in camelCase with the one-letter word `I`.
        "iWishIWereCoolEnoughForRoot!".to_string(),
        // Base64 of a sequence, of an identifier with `echo`'s newline,
        // and a Basic header of a dummy pair.
        encode(b"01234567012345670123456701234567"),
        encode(b"privateKey\n"),
        format!("Basic {}", encode(b"me:pass")),
        // A cookie of encoded dummy fields.
        format!("{}|{}", encode(b"zxcv"), encode(b"1234")),
        // RFC 5849 section 1.2's temporary credentials.
        "hfdp7dh39dks9884".to_string(),
        // A value that is an assignment itself.
        "UUID=6a38ee5-7235-44e7".to_string(),
    ] {
        assert!(is_known_non_secret(value.as_bytes()), "{value}");
    }
    let v = random_value();
    for value in [
        format!("Basic {}", encode(format!("deploy:{v}").as_bytes())),
        format!("A{v}"),
        format!("UUID{v}"),
        format!("{}|{v}", encode(b"zxcv")),
    ] {
        assert!(!is_known_non_secret(value.as_bytes()), "{value}");
    }
}

/// Tokens of the JOSE shape, broken ones included, are the `jwt` rule's to
/// judge; a dotted value without a JSON segment is not one.
#[test]
fn jose_shaped_values_are_left_to_the_jwt_rule() {
    let mut rng = Rng::seeded(11);
    let mut b64 = |n: usize| expand(&format!("{{{{b64url:{n}}}}}"), &mut rng).unwrap();
    let (header, claims, sig) = (format!("eyJ{}", b64(30)), format!("eyJ{}", b64(9)), b64(43));
    for value in [
        format!("{header}.{claims}.{sig}"),
        format!("{claims}.{sig}"),        // a segment missing
        format!("dGVzdA.{claims}.{sig}"), // a header that is not JSON
        format!("{header}.{claims}.{sig}.{}.{}", b64(16), b64(22)), // JWE
        format!("{header}..{}.{}.{}", b64(16), b64(20), b64(22)), // JWE, direct
        format!("eyJhbGciOiJSUzI1Ni{}", b64(20)), // a header cut off
    ] {
        assert!(is_jose_shaped(value.as_bytes()), "{value}");
    }
    for value in [
        format!("{}.{}", b64(20), b64(20)),
        header.clone(),
        format!("{header}.{claims}.{sig}.a.b.c"),
        format!("{header}..{sig}"),
        format!("{header}.{claims}/{sig}"),
        format!(".{claims}.{sig}"),
        // base64 of other JSON alone: `{"type": "service_account", …}`.
        format!("eyJ0eXBlIjoic2VydmljZV9hY2NvdW50Ii{}", b64(40)),
    ] {
        assert!(!is_jose_shaped(value.as_bytes()), "{value}");
    }
}

/// A docstring documents: its values are examples. A string assigned to a
/// name, or the code after the docstring closes, is read.
#[test]
fn docstrings_are_documentation_and_assigned_strings_are_not() {
    let v = &random_value();
    let line = format!("        access_token={v}   # Body");
    let inside = "class Resource:\n    def verify(self, request):\n        \"\"\"Tokens come in the query:\n\n";
    assert!(!literal_after(inside, &line, "access_token", v));
    let module = "# Copyright\n\"\"\"Usage:\n";
    assert!(!literal_after(module, &line, "access_token", v));
    // Data, not documentation.
    let assigned = "HEADERS = \"\"\"\n";
    assert!(literal_after(assigned, &line, "access_token", v));
    // The docstring closed above: code again.
    let closed = format!("{inside}    \"\"\"\n    x = 1\n");
    let code = format!("    access_token = \"{v}\"");
    assert!(literal_after(&closed, &code, "access_token", v));
    // Adjacent literals are pieces of one string.
    let pieces = format!("    token = \"{v}\" \".rest\"");
    assert!(!literal(&pieces, "token", v));
}

/// A header or YAML line quoted whole yields the value after its name; a
/// value that only holds a colon does not.
#[test]
fn a_quoted_header_line_yields_its_value() {
    let v = random_value();
    assert_eq!(
        value_of_quoted_line(format!("token: {v}").as_bytes()),
        Some(v.as_bytes())
    );
    assert_eq!(
        value_of_quoted_line(format!("X-Api-Key: {v}").as_bytes()),
        Some(v.as_bytes())
    );
    for value in [
        v.clone(),
        format!("t: {v}"),
        format!("token:{v}"),
        format!("token:  {v}"),
        format!("{v}: {v}"),
        "token: ".to_string(),
    ] {
        assert_eq!(value_of_quoted_line(value.as_bytes()), None, "{value}");
    }
}
