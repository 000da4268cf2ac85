//! librdkafka client settings shared by the consumer and the dead-letter
//! producer, and what the linked librdkafka can do.
//!
//! Security and tuning are librdkafka's own properties, passed through
//! unchanged from `ingest.kafka_options` (docs/ingest.md, "Kafka security"):
//! `security.protocol` (`PLAINTEXT`, `SSL`, `SASL_PLAINTEXT`, `SASL_SSL`),
//! `ssl.ca.location`, `ssl.certificate.location`, `ssl.key.location`,
//! `ssl.key.password`, `sasl.mechanism` (`PLAIN`, `SCRAM-SHA-256`,
//! `SCRAM-SHA-512`, `OAUTHBEARER`), `sasl.username`, `sasl.password`,
//! `sasl.oauthbearer.method=oidc` with its client id, secret and token
//! endpoint, `compression.codec` (`gzip`, `lz4`, `zstd`, `snappy`), and so on.
//! librdkafka checks them when a client is created: an unknown property, a
//! value this build does not support, or an unreadable certificate file is an
//! error at startup, before any event is read.

use std::collections::BTreeMap;

use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaResult;

/// What librdkafka must have been built with for the documented security and
/// compression settings to work: TLS (OpenSSL), SASL PLAIN, SCRAM and
/// OAUTHBEARER, OIDC token fetching, and the lz4 and zstd codecs.
pub const REQUIRED_FEATURES: &[&str] =
    &["ssl", "sasl_plain", "sasl_scram", "sasl_oauthbearer", "oidc", "lz4", "zstd"];

/// The base client configuration: `options` (security, SASL, tuning) and the
/// bootstrap servers, which win over an option of the same name.
pub fn client_config(brokers: &str, options: &BTreeMap<String, String>) -> ClientConfig {
    let mut cc = ClientConfig::new();
    for (k, v) in options {
        cc.set(k, v);
    }
    cc.set("bootstrap.servers", brokers);
    cc
}

/// The linked librdkafka: its version and `builtin.features`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Librdkafka {
    /// For example `2.12.1`.
    pub version: String,
    /// For example `gzip`, `snappy`, `ssl`, `sasl_scram`, `zstd`, `oidc`.
    pub features: Vec<String>,
}

impl Librdkafka {
    /// Asks the linked library.
    pub fn linked() -> KafkaResult<Librdkafka> {
        let (_, version) = rdkafka::util::get_rdkafka_version();
        let features = ClientConfig::new().create_native_config()?.get("builtin.features")?;
        Ok(Librdkafka { version, features: features.split(',').map(|f| f.trim().to_owned()).collect() })
    }

    /// Those of [`REQUIRED_FEATURES`] this build lacks.
    pub fn missing(&self) -> Vec<&'static str> {
        REQUIRED_FEATURES.iter().copied().filter(|f| !self.features.iter().any(|have| have == f)).collect()
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::producer::BaseProducer;

    use super::*;

    fn options(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn producer(pairs: &[(&str, &str)]) -> KafkaResult<BaseProducer> {
        // Port 9 on loopback: nothing listens; creating a client connects to nothing yet.
        client_config("127.0.0.1:9", &options(pairs)).create()
    }

    #[test]
    fn the_linked_librdkafka_has_tls_sasl_oidc_and_the_codecs() {
        let lib = Librdkafka::linked().expect("librdkafka answers");
        assert!(
            lib.missing().is_empty(),
            "librdkafka {} lacks {:?}; has {:?}",
            lib.version,
            lib.missing(),
            lib.features
        );
    }

    #[test]
    fn brokers_win_over_an_option_of_the_same_name() {
        let cc = client_config("a:9092", &options(&[("bootstrap.servers", "b:9092"), ("client.id", "x")]));
        assert_eq!(cc.get("bootstrap.servers"), Some("a:9092"));
        assert_eq!(cc.get("client.id"), Some("x"));
    }

    #[test]
    fn ssl_and_sasl_settings_build_clients() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, TEST_CA).expect("write CA");
        let ca = ca.to_str().expect("utf-8 path");
        for (protocol, mechanism) in [
            ("SASL_SSL", "PLAIN"),
            ("SASL_SSL", "SCRAM-SHA-256"),
            ("SASL_SSL", "SCRAM-SHA-512"),
            ("SASL_PLAINTEXT", "SCRAM-SHA-512"),
        ] {
            producer(&[
                ("security.protocol", protocol),
                ("sasl.mechanism", mechanism),
                ("sasl.username", "callscope"),
                ("sasl.password", "not-a-real-password"),
                ("ssl.ca.location", ca),
                ("compression.codec", "zstd"),
            ])
            .unwrap_or_else(|e| panic!("{protocol} {mechanism}: {e}"));
        }
        producer(&[("security.protocol", "SSL"), ("ssl.ca.location", ca), ("compression.codec", "lz4")])
            .expect("SSL with a CA");
        producer(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "OAUTHBEARER"),
            ("sasl.oauthbearer.method", "oidc"),
            ("sasl.oauthbearer.client.id", "callscope"),
            ("sasl.oauthbearer.client.secret", "not-a-real-secret"),
            ("sasl.oauthbearer.token.endpoint.url", "https://127.0.0.1:9/token"),
            ("ssl.ca.location", ca),
        ])
        .expect("OAUTHBEARER with OIDC");
    }

    #[test]
    fn bad_security_settings_fail_at_creation_and_say_why() {
        let err = producer(&[("security.protocol", "SSL"), ("ssl.ca.location", "/nonexistent/ca.pem")])
            .err()
            .expect("missing CA file")
            .to_string();
        assert!(err.contains("ssl.ca.location"), "{err}");
        let err = producer(&[("security.protocol", "SASL_SSL"), ("sasl.mechanism", "NOPE")])
            .err()
            .expect("unknown mechanism")
            .to_string();
        assert!(err.contains("SASL mechanism: NOPE"), "{err}");
    }

    /// A self-signed CA certificate (public, no key here): librdkafka only
    /// needs a file it can load.
    const TEST_CA: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBnTCCAUOgAwIBAgIUS9ZNWBwx0/m/4SINfdZwwgJhjGIwCgYIKoZIzj0EAwIw\n\
HDEaMBgGA1UEAwwRY2FsbHNjb3BlIHRlc3QgQ0EwHhcNMjYxMjAyMTIzNjMzWhcN\n\
MjcwMTAxMTIzNjMzWjAcMRowGAYDVQQDDBFjYWxsc2NvcGUgdGVzdCBDQTBZMBMG\n\
ByqGSM49AgEGCCqGSM49AwEHA0IABCSkT8xAEIj9BH0WEpydYSWh7+woqzTFvTWL\n\
7+oz2zQEVQzNzGMLY7JBM5tiV2OqRgp1ouPq1mIbhIhK9sdtTlGjYzBhMB0GA1Ud\n\
DgQWBBRet40X82P+qHyTxhyN3PwrAMkF6jAfBgNVHSMEGDAWgBRet40X82P+qHyT\n\
xhyN3PwrAMkF6jAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAKBggq\n\
hkjOPQQDAgNIADBFAiEAmL0G9ns5wdbDZA6qSOjuBX9Fa8Gj2xAV2/CgLGlBZ6IC\n\
ID35WAmLzY7f8l1dR7O8Yu28Os9SSTUE34tAwWFNQF4b\n\
-----END CERTIFICATE-----\n\
";
}
