// Package config loads, validates and prints the tagstream configuration.
// It is the only package that imports viper; everything else receives a
// plain Config value.
//
// # Sources and precedence
//
// Load merges, highest precedence first:
//
//  1. command-line flags named by the dotted key (--kafka.brokers,
//     --batch.max_size, --workers), only when set on the command line;
//  2. environment variables TAGSTREAM_<KEY> with "." replaced by "_"
//     (TAGSTREAM_KAFKA_BROKERS, TAGSTREAM_BATCH_MAX_SIZE); empty variables
//     are ignored and lists are comma-separated;
//  3. the YAML file given by --config (tagstream.example.yaml at the
//     repository root documents every key);
//  4. Default.
//
// Keys lists every key. A key omitted everywhere gets its default; a value
// given anywhere is taken literally and validated, so batch.max_size: 0 is
// an error rather than a request for the default. The one exception is
// workers, where 0 means GOMAXPROCS.
//
// # Errors
//
// The file is decoded with viper's UnmarshalExact: an unknown key is an
// error naming it ("unknown key kafka.brokerz"). Validate reports every
// out-of-range value at once as "<key> = <value>, want <range>". All such
// errors wrap ErrInvalid.
//
// # Secrets
//
// kafka.sasl.password, nats.password and nats.token are secrets. Prefer
// passing them in the environment. Redacted and YAML replace them with
// "REDACTED" and Validate never prints them.
//
// # Reloading
//
// There is no file watching (no viper.WatchConfig) and no global state: each
// Load uses its own viper.New(). To reload, for example on SIGHUP, call Load
// again and swap in the fields that are safe to change.
package config
