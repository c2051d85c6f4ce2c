package consumer

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
)

// subscribedFormat is the message kafka-go's Reader logs, synchronously in
// its group goroutine, each time a new generation starts and before that
// generation's commit loop runs. Its only argument is the new assignment,
// map[topicPartition]int64 with the offset each partition restarts from.
// kafka-go has no rebalance callback; this is the one place a Reader
// exposes generations. It is pinned to kafka-go v0.4.51 and covered by
// TestRebalanceHandsOverPartitions (and TestAssignmentHookSeen). If a
// kafka-go upgrade changes it, the Tracker keeps tracking every partition
// it sees: redeliveries stay safe, but a revoked partition could then be
// committed late.
const subscribedFormat = "subscribed to topics and partitions: %+v"

// joinedFormats are the messages kafka-go logs when the member (re)joins the
// group, before the new generation's readers start.
var joinedFormats = [...]string{
	"Joined group %s as member %s in generation %d",
	"joined group %s as member %s in generation %d",
}

// groupLogger is the kafka-go Logger of the Reader: it forwards messages to
// the Consumer's logger at debug level and feeds new assignments to the
// Tracker. It never blocks.
type groupLogger struct {
	log      *slog.Logger
	onJoin   func()
	onAssign func(map[TopicPartition]int64)
}

// Printf implements kafka.Logger.
func (g groupLogger) Printf(format string, args ...any) {
	if format == joinedFormats[0] || format == joinedFormats[1] {
		g.onJoin()
	}
	if format == subscribedFormat && len(args) == 1 {
		if a, ok := parseAssignment(args[0]); ok {
			g.onAssign(a)
		}
	}
	if g.log.Enabled(context.Background(), slog.LevelDebug) {
		g.log.Debug(fmt.Sprintf(format, args...), "component", "kafka-go")
	}
}

// errorLogger forwards kafka-go's error messages at warn level.
type errorLogger struct{ log *slog.Logger }

// Printf implements kafka.Logger.
func (e errorLogger) Printf(format string, args ...any) {
	e.log.Warn(fmt.Sprintf(format, args...), "component", "kafka-go")
}

// parseAssignment reads kafka-go's map[topicPartition]int64, whose key has
// the unexported fields topic (string) and partition (int32). Reading
// unexported fields through reflect is allowed; only Interface() is not.
func parseAssignment(arg any) (map[TopicPartition]int64, bool) {
	v := reflect.ValueOf(arg)
	if v.Kind() != reflect.Map || v.Type().Key().Kind() != reflect.Struct || v.Type().Elem().Kind() != reflect.Int64 {
		return nil, false
	}
	kt := v.Type().Key()
	tf, ok1 := kt.FieldByName("topic")
	pf, ok2 := kt.FieldByName("partition")
	if !ok1 || !ok2 || tf.Type.Kind() != reflect.String || pf.Type.Kind() != reflect.Int32 {
		return nil, false
	}
	out := make(map[TopicPartition]int64, v.Len())
	it := v.MapRange()
	for it.Next() {
		k := it.Key()
		tp := TopicPartition{Topic: k.FieldByIndex(tf.Index).String(), Partition: int(k.FieldByIndex(pf.Index).Int())}
		out[tp] = it.Value().Int()
	}
	return out, true
}
