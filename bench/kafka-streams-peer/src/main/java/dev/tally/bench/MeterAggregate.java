package dev.tally.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The three bench meters in one-minute tumbling windows with one hour of grace, one window store
 * per meter (key: subject NUL canonical group-by JSON; value: the accumulator and the event count).
 *
 * <p>Output, as Tally's meter aggregate writes it:
 * <ul>
 *   <li>an update ({@code "final":false}) per changed window every 100 ms (the commit interval),
 *       so updates coalesce per commit;
 *   <li>one final record ({@code "final":true}) per window when it closes: when stream time
 *       reaches end + grace (a stream-time punctuator), or, once the task has gone idle after a
 *       backlog, when the wall clock does (Tally: once the task has read its input to the end);
 *   <li>a late record for an event of a closed window, once per meter.
 * </ul>
 * The close bound is kept in a logged store, so finals neither repeat nor vanish across restarts.
 */
final class MeterAggregate implements Processor<String, MeteringPeer.CloudEvent, String, String> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long WINDOW_MS = MeteringPeer.WINDOW_MS, GRACE_MS = MeteringPeer.GRACE_MS;
  private static final String CLOSED_BEFORE = "closedBeforeStartMs";
  /** Tally's window bounds: ISO-8601 UTC with milliseconds. */
  private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  enum Meter {
    API_REQUESTS("api_requests", "api.request", "COUNT"),
    TOKENS("tokens", "llm.tokens", "SUM"),
    SEATS("seats", "seats.set", "LATEST");

    final String slug, eventType, aggregation;

    Meter(String slug, String eventType, String aggregation) {
      this.slug = slug;
      this.eventType = eventType;
      this.aggregation = aggregation;
    }

    String storeName() {
      return "meter-" + slug;
    }
  }

  /** A changed window waiting for the next update round. */
  private record Dirty(Meter meter, String key, long windowStartMs) {}

  private ProcessorContext<String, String> context;
  private final Map<Meter, WindowStore<String, String>> stores = new EnumMap<>(Meter.class);
  private KeyValueStore<String, Long> closeState;
  private long closedBeforeStartMs;
  private Set<Dirty> dirty = new HashSet<>();
  private long processed, processedAtLastTick = -1;
  private boolean caughtUp;

  @Override
  public void init(ProcessorContext<String, String> context) {
    this.context = context;
    for (Meter meter : Meter.values()) stores.put(meter, context.getStateStore(meter.storeName()));
    closeState = context.getStateStore("meter-close-state");
    Long saved = closeState.get(CLOSED_BEFORE);
    closedBeforeStartMs = saved == null ? 0 : saved;
    context.schedule(Duration.ofMillis(100), PunctuationType.WALL_CLOCK_TIME, now -> emitUpdates());
    context.schedule(Duration.ofMillis(1), PunctuationType.STREAM_TIME, this::closeWindows);
    context.schedule(Duration.ofSeconds(1), PunctuationType.WALL_CLOCK_TIME, this::closeWhenIdle);
  }

  @Override
  public void process(Record<String, MeteringPeer.CloudEvent> record) {
    MeteringPeer.CloudEvent event = record.value();
    processed++;
    Meter meter = switch (event.type()) {
      case "api.request" -> Meter.API_REQUESTS;
      case "llm.tokens" -> Meter.TOKENS;
      case "seats.set" -> Meter.SEATS;
      default -> null;
    };
    if (meter == null) return;
    long windowStartMs = event.timeMs() - Math.floorMod(event.timeMs(), WINDOW_MS);
    String group = meter == Meter.API_REQUESTS ? "{\"route\":" + quote(event.data().path("route").asText("")) + "}" : "{}";
    if (windowStartMs < closedBeforeStartMs || windowStartMs + WINDOW_MS + GRACE_MS <= context.currentStreamTimeMs()) {
      context.forward(new Record<>(recordKey(meter, event.subject(), group, windowStartMs), lateRecord(meter, event, windowStartMs), record.timestamp()), "late-events-sink");
      return;
    }
    WindowStore<String, String> store = stores.get(meter);
    String key = event.subject() + '\u0000' + group;
    String next = add(meter, store.fetch(key, windowStartMs), event);
    if (next == null) return;
    store.put(key, next, windowStartMs);
    dirty.add(new Dirty(meter, key, windowStartMs));
  }

  /**
   * Accumulators as strings: {@code count|sum} (COUNT keeps the count alone), and
   * {@code count|timeMs|offset|id|value} for LATEST, whose ties go to the higher offset, then the greater id.
   */
  private String add(Meter meter, String previous, MeteringPeer.CloudEvent event) {
    String[] acc = previous == null ? null : previous.split("\\|", 5);
    long count = acc == null ? 1 : Long.parseLong(acc[0]) + 1;
    switch (meter) {
      case API_REQUESTS:
        return Long.toString(count);
      case TOKENS: {
        BigDecimal value = new BigDecimal(event.data().path("tokens").asText("0"));
        return count + "|" + (acc == null ? value : new BigDecimal(acc[1]).add(value)).toPlainString();
      }
      default: {
        long offset = context.recordMetadata().map(m -> m.offset()).orElse(-1L);
        String value = event.data().path("seats").asText("0");
        boolean later = acc == null || event.timeMs() > Long.parseLong(acc[1])
            || (event.timeMs() == Long.parseLong(acc[1]) && (offset > Long.parseLong(acc[2]) || (offset == Long.parseLong(acc[2]) && event.id().compareTo(acc[3]) > 0)));
        return later ? count + "|" + event.timeMs() + "|" + offset + "|" + event.id() + "|" + value : count + previous.substring(previous.indexOf('|'));
      }
    }
  }

  private void emitUpdates() {
    Set<Dirty> changed = dirty;
    dirty = new HashSet<>();
    for (Dirty d : changed) {
      // A closed window already went out with its final value: never follow it with an update.
      if (d.windowStartMs() < closedBeforeStartMs) continue;
      emit(d.meter(), d.key(), d.windowStartMs(), stores.get(d.meter()).fetch(d.key(), d.windowStartMs()), false);
    }
  }

  /** Emits the final record of every window that {@code timeMs} closes and moves the durable bound. */
  private void closeWindows(long timeMs) {
    long boundMs = Math.max(0, Math.floorDiv(timeMs - WINDOW_MS - GRACE_MS, WINDOW_MS) * WINDOW_MS + WINDOW_MS);
    if (boundMs <= closedBeforeStartMs) return;
    for (Meter meter : Meter.values()) {
      List<KeyValue<Windowed<String>, String>> closing = new ArrayList<>();
      try (KeyValueIterator<Windowed<String>, String> it = stores.get(meter).fetchAll(Instant.ofEpochMilli(closedBeforeStartMs), Instant.ofEpochMilli(boundMs - 1))) {
        it.forEachRemaining(closing::add);
      }
      for (KeyValue<Windowed<String>, String> entry : closing) emit(meter, entry.key.key(), entry.key.window().start(), entry.value, true);
    }
    closedBeforeStartMs = boundMs;
    closeState.put(CLOSED_BEFORE, boundMs);
  }

  /**
   * The wall clock closes windows only once the task has caught up: its partition fetched to the end
   * and nothing processed for a whole tick (so nothing fetched is still buffered). Once is enough.
   */
  private void closeWhenIdle(long wallClockMs) {
    boolean idle = processed == processedAtLastTick;
    processedAtLastTick = processed;
    if (!caughtUp) caughtUp = idle && MeteringPeer.fetchedToEnd(context.taskId().partition());
    if (caughtUp) closeWindows(wallClockMs);
  }

  private void emit(Meter meter, String storeKey, long windowStartMs, String acc, boolean isFinal) {
    int nul = storeKey.indexOf('\u0000');
    String subject = storeKey.substring(0, nul), group = storeKey.substring(nul + 1);
    String[] parts = acc.split("\\|", 5);
    ObjectNode value = JSON.createObjectNode();
    value.put("meter", meter.slug);
    value.put("subject", subject);
    value.putRawValue("groupBy", new RawValue(group));
    value.put("windowStart", iso(windowStartMs));
    value.put("windowEnd", iso(windowStartMs + WINDOW_MS));
    value.put("aggregation", meter.aggregation);
    value.put("value", switch (meter) {
      case API_REQUESTS -> parts[0];
      case TOKENS -> parts[1];
      case SEATS -> parts[4];
    });
    value.put("count", Long.parseLong(parts[0]));
    value.put("final", isFinal);
    context.forward(new Record<>(recordKey(meter, subject, group, windowStartMs), value.toString(), windowStartMs + WINDOW_MS - 1), "meters-sink");
  }

  private String lateRecord(Meter meter, MeteringPeer.CloudEvent event, long windowStartMs) {
    ObjectNode value = JSON.createObjectNode();
    value.put("reason", "window-closed");
    value.put("meter", meter.slug);
    value.put("subject", event.subject());
    value.put("windowStart", iso(windowStartMs));
    value.put("windowEnd", iso(windowStartMs + WINDOW_MS));
    value.put("eventId", event.id());
    return value.toString();
  }

  private static String recordKey(Meter meter, String subject, String group, long windowStartMs) {
    return meter.slug + "|" + subject + "|" + group + "|" + iso(windowStartMs);
  }

  private static String iso(long ms) {
    return ISO.format(Instant.ofEpochMilli(ms));
  }

  private static String quote(String text) {
    try {
      return JSON.writeValueAsString(text);
    } catch (JsonProcessingException impossible) {
      throw new IllegalStateException(impossible);
    }
  }
}
