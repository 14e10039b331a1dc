import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The reference reader for the read_committed tests: Kafka's own Java consumer
 * reads one topic partition from its beginning to its end offset (the last
 * stable offset under read_committed) and prints one JSON line per record:
 * {"offset":N,"key":"...","value":"..."}, then {"end":N} with its final position.
 *
 * Usage: ReadCommitted <bootstrap> <topic> <partition> <read_committed|read_uncommitted> <timeoutMs>
 */
public final class ReadCommitted {
  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println("usage: ReadCommitted <bootstrap> <topic> <partition> <isolation> <timeoutMs>");
      System.exit(2);
    }
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, args[3]);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    TopicPartition partition = new TopicPartition(args[1], Integer.parseInt(args[2]));
    long deadline = System.currentTimeMillis() + Long.parseLong(args[4]);
    StringBuilder out = new StringBuilder();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      Map<TopicPartition, Long> ends = consumer.endOffsets(List.of(partition));
      long end = ends.get(partition);
      while (consumer.position(partition) < end) {
        if (System.currentTimeMillis() > deadline) {
          System.err.println("timed out at position " + consumer.position(partition) + " of " + end);
          System.exit(1);
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          if (record.offset() >= end) continue;
          out.append("{\"offset\":").append(record.offset())
              .append(",\"key\":").append(json(record.key()))
              .append(",\"value\":").append(json(record.value()))
              .append("}\n");
        }
      }
      out.append("{\"end\":").append(consumer.position(partition)).append("}\n");
    }
    System.out.print(out);
    System.out.flush();
  }

  private static String json(byte[] bytes) {
    if (bytes == null) return "null";
    String s = new String(bytes, StandardCharsets.UTF_8);
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
}
