package config

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tagstream/tagstream/internal/redact"
)

// redacted replaces non-empty secrets in Redacted.
const redacted = redact.Mark

// Redacted returns a deep copy of c in which every non-empty secret
// (kafka.sasl.password, nats.password, nats.token, and a password or token
// written into a nats.url as user information) is replaced by "REDACTED".
// Empty secrets stay empty, so the output still shows that no secret is
// set. Nothing else changes. The copy shares no memory with c.
func (c Config) Redacted() Config {
	r := c.clone()
	for _, s := range []*string{&r.Kafka.SASL.Password, &r.NATS.Password, &r.NATS.Token, &r.HTTP.Token} {
		if *s != "" {
			*s = redacted
		}
	}
	r.NATS.URL = redact.URLs(r.NATS.URL)
	return r
}

// YAML renders c.Redacted() as YAML, in struct order, with durations as
// strings such as "5ms". It is what `tagstream config print` shows. The
// output, with real secrets put back, loads to c again.
func (c Config) YAML() ([]byte, error) {
	return c.Redacted().marshalYAML()
}

// clone returns a copy of c with fresh slices.
func (c Config) clone() Config {
	c.Kafka.Brokers = slices.Clone(c.Kafka.Brokers)
	c.Kafka.Topics = slices.Clone(c.Kafka.Topics)
	c.Tasks = cloneTasks(c.Tasks)
	return c
}

// marshalYAML renders c as is, secrets included.
func (c Config) marshalYAML() ([]byte, error) {
	node, err := yamlNode(reflect.ValueOf(c))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return nil, fmt.Errorf("render config yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render config yaml: %w", err)
	}
	return buf.Bytes(), nil
}

// yamlNode builds a mapping node for the struct v, keyed by mapstructure
// tags in field order.
func yamlNode(v reflect.Value) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		fv := v.Field(i)
		var val *yaml.Node
		switch {
		case f.Type == durationType:
			val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: time.Duration(fv.Int()).String()}
		case f.Type.Kind() == reflect.Struct:
			var err error
			if val, err = yamlNode(fv); err != nil {
				return nil, err
			}
		default:
			val = new(yaml.Node)
			if err := val.Encode(fv.Interface()); err != nil {
				return nil, fmt.Errorf("render config key %s: %w", f.Tag.Get("mapstructure"), err)
			}
		}
		key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.Tag.Get("mapstructure")}
		n.Content = append(n.Content, key, val)
	}
	return n, nil
}
