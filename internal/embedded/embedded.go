// Package embedded runs an in-process Kafka-protocol broker (franz-go's
// kfake) and an in-process NATS server with JetStream, for `tagstream run
// --embedded`, the demo and the end-to-end benchmark. Nothing is persisted
// beyond Close: kfake keeps its log in memory and the JetStream store lives
// in a temporary directory that Close removes.
//
// Lifecycle: Start → use KafkaBrokers and NATSURL → Close. Close is safe to
// call more than once.
package embedded

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Config configures the embedded servers.
type Config struct {
	// KafkaAddr is the Kafka listen address, host:port; port 0 picks a free
	// one. Default "127.0.0.1:9092".
	KafkaAddr string
	// NATSAddr is the NATS listen address, host:port; port 0 picks a free
	// one. Default "127.0.0.1:4222".
	NATSAddr string
	// Topics are created at start with Partitions partitions each.
	Topics []string
	// Partitions per topic. Default 8, range 1..1024.
	Partitions int
}

// Servers are the running embedded servers.
type Servers struct {
	// KafkaBrokers is the bootstrap address of the Kafka broker.
	KafkaBrokers []string
	// NATSURL is the client URL of the NATS server.
	NATSURL string

	kafka    *kfake.Cluster
	nats     *server.Server
	storeDir string
	once     sync.Once
}

// Start starts both servers. On error nothing is left running.
func Start(cfg Config, log *slog.Logger) (*Servers, error) {
	if cfg.KafkaAddr == "" {
		cfg.KafkaAddr = "127.0.0.1:9092"
	}
	if cfg.NATSAddr == "" {
		cfg.NATSAddr = "127.0.0.1:4222"
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = 8
	}
	if cfg.Partitions < 1 || cfg.Partitions > 1024 {
		return nil, fmt.Errorf("embedded: partitions = %d, want 1..1024", cfg.Partitions)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Servers{}
	ln, err := net.Listen("tcp", cfg.KafkaAddr)
	if err != nil {
		return nil, fmt.Errorf("embedded kafka: listen on %s: %w (is a broker already running there? set embedded.kafka_addr)", cfg.KafkaAddr, err)
	}
	used := false
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ListenFn(func(network, address string) (net.Listener, error) {
			if used {
				return nil, fmt.Errorf("embedded kafka: one broker only")
			}
			used = true
			return ln, nil
		}),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(cfg.Partitions),
	}
	if len(cfg.Topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(cfg.Partitions), cfg.Topics...))
	}
	s.kafka, err = kfake.NewCluster(opts...)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("embedded kafka on %s: %w", cfg.KafkaAddr, err)
	}
	s.KafkaBrokers = s.kafka.ListenAddrs()

	host, portStr, err := net.SplitHostPort(cfg.NATSAddr)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("embedded nats: address %q: %w", cfg.NATSAddr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("embedded nats: address %q: port: %w", cfg.NATSAddr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	s.storeDir, err = os.MkdirTemp("", "tagstream-jetstream-")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("embedded nats: store dir: %w", err)
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "tagstream-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   s.storeDir,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("embedded nats on %s: %w", cfg.NATSAddr, err)
	}
	ns.Start()
	s.nats = ns
	if !ns.ReadyForConnections(10 * time.Second) {
		s.Close()
		return nil, fmt.Errorf("embedded nats on %s: not ready after 10s (is the port in use? set embedded.nats_addr)", cfg.NATSAddr)
	}
	s.NATSURL = ns.ClientURL()
	log.Info("embedded servers started", "kafka", s.KafkaBrokers, "nats", s.NATSURL, "topics", cfg.Topics, "partitions", cfg.Partitions)
	return s, nil
}

// Close stops both servers and removes the JetStream store.
func (s *Servers) Close() {
	s.once.Do(func() {
		if s.nats != nil {
			s.nats.Shutdown()
			s.nats.WaitForShutdown()
		}
		if s.kafka != nil {
			s.kafka.Close()
		}
		if s.storeDir != "" {
			os.RemoveAll(s.storeDir)
		}
	})
}
