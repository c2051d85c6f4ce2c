package config

import (
	"reflect"
	"slices"
	"time"
)

var durationType = reflect.TypeFor[time.Duration]()

// Keys returns every configuration key as a dotted path ("kafka.tls.enabled"),
// in struct order. These are the names of the command-line flags Load binds
// and, upper-cased with "." replaced by "_" and prefixed with "TAGSTREAM_",
// of the environment variables it reads. The result is a fresh slice.
func Keys() []string {
	var keys []string
	walk(reflect.ValueOf(Config{}), "", func(key string, _ reflect.Value) {
		keys = append(keys, key)
	})
	return keys
}

// walk calls fn for every leaf field of the struct v, in field order, with
// the dotted key built from the mapstructure tags. Nested structs are
// descended into; everything else (including time.Duration and slices) is a
// leaf.
func walk(v reflect.Value, prefix string, fn func(key string, v reflect.Value)) {
	walkFields(v, prefix, func(key string, _ reflect.Type, _ reflect.StructField, fv reflect.Value) { fn(key, fv) })
}

// walkFields is walk that also passes each leaf's struct field and the
// struct type that declares it.
func walkFields(v reflect.Value, prefix string, fn func(key string, owner reflect.Type, f reflect.StructField, v reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key := f.Tag.Get("mapstructure")
		if prefix != "" {
			key = prefix + "." + key
		}
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			walkFields(fv, key, fn)
			continue
		}
		fn(key, t, f, fv)
	}
}

// secretKeys are the keys whose values Redacted replaces.
var secretKeys = []string{"kafka.sasl.password", "nats.password", "nats.token", "http.token"}

// isSecret reports whether key holds a secret.
func isSecret(key string) bool { return slices.Contains(secretKeys, key) }
