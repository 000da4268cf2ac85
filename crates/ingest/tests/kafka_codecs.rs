//! Compression through a real broker: messages produced with each codec the
//! worker may meet (`compression.codec` passed through
//! `kafka_client::client_config`, as `ingest.kafka_options` does) come back
//! intact. The broker is `CALLSCOPE_TEST_KAFKA_BROKERS` (tansu in `.ci/run`);
//! without it the test is skipped with a message, except under CI (`CI` set),
//! where that is a failure.

use std::collections::BTreeMap;
use std::time::Duration;

use callscope_ingest::kafka_client::client_config;
use rdkafka::Message;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};

fn brokers() -> Option<String> {
    match std::env::var("CALLSCOPE_TEST_KAFKA_BROKERS") {
        Ok(b) if !b.is_empty() => Some(b),
        _ if std::env::var_os("CI").is_some() => panic!("CALLSCOPE_TEST_KAFKA_BROKERS must be set under CI"),
        _ => {
            eprintln!("SKIPPED: set CALLSCOPE_TEST_KAFKA_BROKERS to run the Kafka codec test");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_codec_round_trips_through_the_broker() {
    let Some(brokers) = brokers() else { return };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
    let topic = format!("codecs_{}_{}", std::process::id(), nanos % 1_000_000_000);
    let admin: AdminClient<DefaultClientContext> =
        client_config(&brokers, &BTreeMap::new()).create().expect("admin client");
    for r in admin
        .create_topics(&[NewTopic::new(&topic, 1, TopicReplication::Fixed(1))], &AdminOptions::new())
        .await
        .expect("create topic")
    {
        r.expect("topic created");
    }

    // Compressible payloads, so that each codec really compresses.
    let codecs = ["zstd", "lz4", "gzip", "snappy", "none"];
    let mut sent = Vec::new();
    for codec in codecs {
        let options = BTreeMap::from([("compression.codec".to_owned(), codec.to_owned())]);
        let producer: FutureProducer =
            client_config(&brokers, &options).set("acks", "all").create().expect("producer");
        for i in 0..3 {
            let payload = format!("{codec} {i} ").repeat(200);
            producer
                .send(FutureRecord::to(&topic).key(codec).payload(&payload), Duration::from_secs(30))
                .await
                .unwrap_or_else(|(e, _)| panic!("produce with {codec}: {e}"));
            sent.push((codec.to_owned(), payload));
        }
    }

    let consumer: StreamConsumer = client_config(&brokers, &BTreeMap::new())
        .set("group.id", format!("{topic}-reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[&topic]).expect("subscribe");
    let mut received = Vec::new();
    while received.len() < sent.len() {
        let message = tokio::time::timeout(Duration::from_secs(60), consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {} messages came back", received.len(), sent.len()))
            .expect("consume");
        let key = String::from_utf8(message.key().expect("key").to_vec()).expect("utf-8 key");
        let payload = String::from_utf8(message.payload().expect("payload").to_vec()).expect("utf-8 payload");
        received.push((key, payload));
    }
    assert_eq!(received, sent);
}
