// Reads a topic from the beginning with Kafka's own Java client and prints each record's value, one per
// line: proof that what Sluice wrote (its codecs, its batches) is what every other client reads.
// Run as a single-file program: java -cp '<kafka libs>/*' ReadTopic.java <bootstrap> <topic> <records>
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

public class ReadTopic {
  public static void main(String[] args) {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("key.deserializer", StringDeserializer.class.getName());
    props.put("value.deserializer", StringDeserializer.class.getName());
    props.put("isolation.level", "read_committed");
    int wanted = Integer.parseInt(args[2]);
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions = new ArrayList<>();
      consumer.partitionsFor(args[1]).forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      int read = 0;
      long deadline = System.currentTimeMillis() + 60_000;
      while (read < wanted && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          System.out.println(r.value());
          read++;
        }
      }
      if (read < wanted) {
        System.err.println("read " + read + " of " + wanted + " records in 60 s");
        System.exit(1);
      }
    }
  }
}
