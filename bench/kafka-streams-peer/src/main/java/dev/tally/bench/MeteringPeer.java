package dev.tally.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.processor.TimestampExtractor;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Tally's metering hot path written on Kafka Streams, for bench/vs-kafka-streams.ts.
 *
 * <pre>
 * events ─▶ dedupe-events [dedupe] ─▶ aggregate-meters [meter-api_requests, meter-tokens, meter-seats, meter-close-state]
 *                                      ├─▶ meters-sink       (updates on commit, one final per window)
 *                                      └─▶ late-events-sink  (events for closed windows)
 * </pre>
 *
 * The input is keyed by subject, so nothing is repartitioned (Tally's {@code ingest.keyedBySubject}).
 * Stores are persistent (RocksDB), cached ({@code statestore.cache.max.bytes} default) and logged.
 *
 * <p>Usage: {@code MeteringPeer BROKERS INPUT METERS_TOPIC LATE_TOPIC APP_ID STATE_DIR}
 */
public final class MeteringPeer {
  static final long WINDOW_MS = Duration.ofMinutes(1).toMillis();
  static final long GRACE_MS = Duration.ofHours(1).toMillis();
  /** Tally's {@code ingest.dedupeRetention} in the bench config. */
  static final long DEDUPE_RETENTION_MS = Duration.ofDays(1).toMillis();

  private MeteringPeer() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 6) {
      System.err.println("usage: MeteringPeer BROKERS INPUT METERS_TOPIC LATE_TOPIC APP_ID STATE_DIR");
      System.exit(2);
    }
    Properties config = new Properties();
    config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    config.put(StreamsConfig.APPLICATION_ID_CONFIG, args[4]);
    config.put(StreamsConfig.STATE_DIR_CONFIG, args[5]);
    config.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    config.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    config.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    config.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    config.put(StreamsConfig.DEFAULT_DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueExceptionHandler.class);
    config.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, EventTime.class);

    KafkaStreams streams = new KafkaStreams(topology(args[1], args[2], args[3]), config);
    running = streams;
    inputTopic = args[1];
    CountDownLatch failed = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> streams.close(Duration.ofSeconds(20))));
    streams.setUncaughtExceptionHandler(error -> {
      error.printStackTrace();
      failed.countDown();
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.start();
    failed.await();
    System.exit(1);
  }

  private static volatile KafkaStreams running;
  private static volatile String inputTopic;

  /**
   * True when the main consumer has fetched input partition {@code partition} to its end (its
   * {@code records-lag} metric is 0). Kafka Streams tells a processor nothing of the kind; Tally's
   * runtime knows it per task ("caught up") and lets the wall clock close windows only after it.
   */
  static boolean fetchedToEnd(int partition) {
    KafkaStreams streams = running;
    if (streams == null) return false;
    for (Map.Entry<MetricName, ? extends Metric> entry : streams.metrics().entrySet()) {
      MetricName name = entry.getKey();
      if (name.name().equals("records-lag") && name.group().equals("consumer-fetch-manager-metrics")
          && inputTopic.equals(name.tags().get("topic")) && String.valueOf(partition).equals(name.tags().get("partition"))
          && !name.tags().getOrDefault("client-id", "").endsWith("restore-consumer")) {
        return entry.getValue().metricValue() instanceof Double lag && lag == 0.0;
      }
    }
    return false;
  }

  static Topology topology(String input, String metersTopic, String lateTopic) {
    Topology topology = new Topology();
    topology.addSource("events", Serdes.String().deserializer(), new CloudEventDeserializer(), input);
    topology.addProcessor("dedupe-events", Dedupe::new, "events");
    topology.addProcessor("aggregate-meters", MeterAggregate::new, "dedupe-events");
    topology.addSink("meters-sink", metersTopic, Serdes.String().serializer(), Serdes.String().serializer(), "aggregate-meters");
    topology.addSink("late-events-sink", lateTopic, Serdes.String().serializer(), Serdes.String().serializer(), "aggregate-meters");

    long bucketMs = Dedupe.BUCKET_MS;
    topology.addStateStore(
        Stores.windowStoreBuilder(
                Stores.persistentWindowStore("dedupe", Duration.ofMillis(DEDUPE_RETENTION_MS + bucketMs), Duration.ofMillis(bucketMs), false),
                Serdes.String(), Serdes.Long())
            .withCachingEnabled(),
        "dedupe-events");
    for (MeterAggregate.Meter meter : MeterAggregate.Meter.values()) {
      topology.addStateStore(
          Stores.windowStoreBuilder(
                  Stores.persistentWindowStore(meter.storeName(), Duration.ofMillis(WINDOW_MS + GRACE_MS), Duration.ofMillis(WINDOW_MS), false),
                  Serdes.String(), Serdes.String())
              .withCachingEnabled(),
          "aggregate-meters");
    }
    topology.addStateStore(
        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore("meter-close-state"), Serdes.String(), Serdes.Long()).withCachingEnabled(),
        "aggregate-meters");
    return topology;
  }

  /** A decoded CloudEvent: the fields the meters read. */
  record CloudEvent(String id, String source, String type, String subject, String time, long timeMs, JsonNode data) {}

  /** CloudEvents JSON with Jackson; a value that is not one becomes null and is dropped by {@link EventTime}. */
  static final class CloudEventDeserializer implements Deserializer<CloudEvent> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public CloudEvent deserialize(String topic, byte[] bytes) {
      if (bytes == null) return null;
      try {
        JsonNode node = JSON.readTree(bytes);
        String id = node.path("id").asText(null), source = node.path("source").asText(null);
        String type = node.path("type").asText(null), subject = node.path("subject").asText(null);
        String time = node.path("time").asText(null);
        if (id == null || source == null || type == null || subject == null || time == null) return null;
        return new CloudEvent(id, source, type, subject, time, Instant.parse(time).toEpochMilli(), node.path("data"));
      } catch (Exception malformed) {
        return null;
      }
    }
  }

  /** Stream time is event time; a record that did not decode gets -1, which Kafka Streams drops. */
  public static final class EventTime implements TimestampExtractor {
    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
      return record.value() instanceof CloudEvent event ? event.timeMs() : -1;
    }
  }

  /**
   * The first copy of an identity (source, id) wins. As Tally's dedupe: identities are filed under
   * a coarse bucket of their event time (half the retention), and a lookup probes every live bucket
   * by point reads, its own first.
   */
  static final class Dedupe implements Processor<String, CloudEvent, String, CloudEvent> {
    static final long BUCKET_MS = DEDUPE_RETENTION_MS / 2;
    private static final long RETENTION_MS = DEDUPE_RETENTION_MS + BUCKET_MS;
    private ProcessorContext<String, CloudEvent> context;
    private WindowStore<String, Long> seen;

    @Override
    public void init(ProcessorContext<String, CloudEvent> context) {
      this.context = context;
      this.seen = context.getStateStore("dedupe");
    }

    @Override
    public void process(Record<String, CloudEvent> record) {
      CloudEvent event = record.value();
      String identity = event.source() + '\u0000' + event.id();
      long own = bucketOf(event.timeMs());
      if (seen.fetch(identity, own) != null) return;
      long newest = bucketOf(Math.max(own, context.currentStreamTimeMs()));
      for (long bucket = newest; bucket > newest - RETENTION_MS && bucket >= 0; bucket -= BUCKET_MS) {
        if (bucket != own && seen.fetch(identity, bucket) != null) return;
      }
      seen.put(identity, event.timeMs(), own);
      context.forward(record);
    }

    private static long bucketOf(long timeMs) {
      return timeMs - Math.floorMod(timeMs, BUCKET_MS);
    }
  }
}
