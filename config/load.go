package config

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// EnvPrefix is the prefix of the environment variables Load reads.
const EnvPrefix = "TAGSTREAM"

// Load builds the configuration from, highest precedence first: the flags
// in flags that were set on the command line, TAGSTREAM_* environment
// variables, the YAML file at path, and Default. It then validates the
// result and returns it.
//
// path may be empty for no file. Any extension is read as YAML. A key in the
// file that is not a Config key is an error naming the key.
//
// Flags are bound by name: a flag whose name is a key from Keys (for example
// --kafka.brokers, --batch.max_size, --workers) sets that key when it was
// changed on the command line; its default is not used. Other flags in the
// set (such as --config) are ignored. flags may be nil.
//
// Environment variables are named TAGSTREAM_ plus the key upper-cased with
// "." replaced by "_": TAGSTREAM_KAFKA_BROKERS, TAGSTREAM_BATCH_MAX_SIZE.
// Empty variables are ignored. A list ([]string) value given as a string, in
// a variable or a plain string flag, is split at commas and each element
// trimmed of spaces.
//
// Durations are strings with a unit ("5ms", "1m30s"); a bare number other than
// 0 is an error, so that "1" is never silently one nanosecond.
//
// An error reading the file wraps the os error and names the path. Every
// other error wraps ErrInvalid, names the file (when there is one) and the
// offending keys; Validate errors are all reported together (errors.Join).
func Load(path string, flags *pflag.FlagSet) (Config, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv() // only consults keys viper knows: every key gets a default below

	keys := Keys()
	walk(reflect.ValueOf(Default()), "", func(key string, fv reflect.Value) {
		v.SetDefault(key, fv.Interface())
	})

	src := "load config"
	if path != "" {
		src = "load config " + path
		b, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("load config: %w", err) // *fs.PathError names the path
		}
		if err := v.ReadConfig(bytes.NewReader(b)); err != nil {
			var pe viper.ConfigParseError
			if errors.As(err, &pe) && pe.Unwrap() != nil {
				err = pe.Unwrap()
			}
			return Config{}, fmt.Errorf("%s: %w: parse yaml: %v", src, ErrInvalid, err)
		}
	}

	if flags != nil {
		for _, key := range keys {
			if f := flags.Lookup(key); f != nil {
				if err := v.BindPFlag(key, f); err != nil {
					return Config{}, fmt.Errorf("%s: bind flag --%s: %w", src, key, err)
				}
			}
		}
	}

	if err := removedKeys(v); err != nil {
		return Config{}, fmt.Errorf("%s: %w", src, err)
	}

	var c Config
	hook := mapstructure.ComposeDecodeHookFunc(durationHook, commaSliceHook)
	if err := v.UnmarshalExact(&c, viper.DecodeHook(hook)); err != nil {
		return Config{}, fmt.Errorf("%s: %w", src, decodeError(err))
	}
	if c.Workers == 0 {
		c.Workers = defaultWorkers()
	}
	c.Tasks = cloneTasks(c.Tasks)
	if err := taskEnv(c.Tasks, os.Environ()); err != nil {
		return Config{}, fmt.Errorf("%s: %w", src, err)
	}
	for i := range c.Tasks {
		if c.Tasks[i].Finetune == nil {
			on := true
			c.Tasks[i].Finetune = &on
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", src, err)
	}
	return c, nil
}

// durationHook decodes strings with time.ParseDuration and refuses bare
// non-zero numbers for time.Duration fields.
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch from.Kind() {
	case reflect.String:
		s := strings.TrimSpace(data.(string))
		if s == "0" {
			return 0, nil
		}
		return time.ParseDuration(s)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if from == durationType || reflect.ValueOf(data).IsZero() {
			return data, nil
		}
		return nil, fmt.Errorf("%v has no unit, want a duration such as \"5ms\" or \"1m\"", data)
	}
	return data, nil
}

// commaSliceHook splits a string into a []string at commas, trimming spaces.
// An empty or all-blank string gives an empty slice.
func commaSliceHook(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to != reflect.TypeFor[[]string]() {
		return data, nil
	}
	s := strings.TrimSpace(data.(string))
	if s == "" {
		return []string{}, nil
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts, nil
}

// decodeError turns the error tree mapstructure returns into one error per
// problem, each naming the dotted key and wrapping ErrInvalid.
func decodeError(err error) error {
	var msgs []string
	collectDecode(err, &msgs)
	if len(msgs) == 0 {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	slices.Sort(msgs)
	msgs = slices.Compact(msgs)
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		errs[i] = fmt.Errorf("%w: %s", ErrInvalid, m)
	}
	return errors.Join(errs...)
}

func collectDecode(err error, msgs *[]string) {
	var de *mapstructure.DecodeError
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			collectDecode(inner, msgs)
		}
		return
	case *mapstructure.DecodeError:
		de = e
	default:
		if inner := errors.Unwrap(err); inner != nil {
			collectDecode(inner, msgs)
			return
		}
		*msgs = append(*msgs, err.Error())
		return
	}
	name, inner := de.Name(), de.Unwrap()
	if inner == nil {
		*msgs = append(*msgs, de.Error())
		return
	}
	if keys, ok := strings.CutPrefix(inner.Error(), "has invalid keys: "); ok {
		for k := range strings.SplitSeq(keys, ", ") {
			if name != "" {
				k = name + "." + k
			}
			*msgs = append(*msgs, "unknown key "+k)
		}
		return
	}
	if name == "" {
		name = "(top level)"
	}
	var pe *mapstructure.ParseError
	var ue *mapstructure.UnconvertibleTypeError
	switch {
	case errors.As(inner, &pe):
		*msgs = append(*msgs, fmt.Sprintf("%s = %s, want %s", name, quoteValue(pe.Value), pe.Expected.Type()))
	case errors.As(inner, &ue):
		*msgs = append(*msgs, fmt.Sprintf("%s = %s (%T), want %s", name, quoteValue(ue.Value), ue.Value, ue.Expected.Type()))
	default:
		*msgs = append(*msgs, name+": "+inner.Error())
	}
}

// quoteValue formats a decoded value for an error message: strings quoted,
// long values cut.
func quoteValue(v any) string {
	s := fmt.Sprint(v)
	if str, ok := v.(string); ok {
		s = strconv.Quote(str)
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// replaced maps the keys of earlier versions to what replaced them. Load
// refuses them with a message naming the replacement rather than as
// unknown keys.
var replaced = map[string]string{
	"models.classifier_en": "tasks[].models.en (a task, e.g. {name: sentiment, models: {en: FILE}}; env TAGSTREAM_TASKS_SENTIMENT_MODELS_EN)",
	"models.classifier_zh": "tasks[].models.zh (a task, e.g. {name: sentiment, models: {zh: FILE}}; env TAGSTREAM_TASKS_SENTIMENT_MODELS_ZH)",
	"finetune.data_en":     "tasks[].data.en (env TAGSTREAM_TASKS_<NAME>_DATA_EN)",
	"finetune.data_zh":     "tasks[].data.zh (env TAGSTREAM_TASKS_<NAME>_DATA_ZH)",
}

// removedKeys reports every replaced key set in the file or the
// environment.
func removedKeys(v *viper.Viper) error {
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(replaced)) {
		env := EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		switch {
		case v.InConfig(key):
			errs = append(errs, fmt.Errorf("%w: %s is no longer a key: use %s", ErrInvalid, key, replaced[key]))
		case os.Getenv(env) != "":
			errs = append(errs, fmt.Errorf("%w: %s is no longer read: use %s", ErrInvalid, env, replaced[key]))
		}
	}
	return errors.Join(errs...)
}

// cloneTasks copies tasks and their maps, so that a Config never shares
// them with Default or another Load. Empty maps become nil.
func cloneTasks(tasks []Task) []Task {
	if tasks == nil {
		return nil
	}
	out := make([]Task, len(tasks))
	for i, t := range tasks {
		t.Models = cloneMap(t.Models)
		t.Thresholds = cloneMap(t.Thresholds)
		t.Data = cloneMap(t.Data)
		if t.Finetune != nil {
			on := *t.Finetune
			t.Finetune = &on
		}
		out[i] = t
	}
	return out
}

// taskEnv applies the variables TAGSTREAM_TASKS_<NAME>_MODELS_<LANG> and
// TAGSTREAM_TASKS_<NAME>_DATA_<LANG> of env (KEY=VALUE strings) to the
// tasks of the same name. Empty variables are ignored; one naming no task
// is an error.
func taskEnv(tasks []Task, env []string) error {
	const prefix = EnvPrefix + "_TASKS_"
	var errs []error
	for _, kv := range env {
		k, val, _ := strings.Cut(kv, "=")
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || val == "" {
			continue
		}
		var name, lang, field string
		for _, f := range []string{"_MODELS_", "_DATA_"} {
			if i := strings.LastIndex(rest, f); i > 0 {
				name, lang, field = strings.ToLower(rest[:i]), strings.ToLower(rest[i+len(f):]), strings.ToLower(strings.Trim(f, "_"))
				break
			}
		}
		if name == "" || lang == "" {
			errs = append(errs, fmt.Errorf("%w: environment variable %s: want %s<NAME>_MODELS_<LANG> or %s<NAME>_DATA_<LANG>", ErrInvalid, k, prefix, prefix))
			continue
		}
		i := slices.IndexFunc(tasks, func(t Task) bool { return t.Name == name })
		if i < 0 {
			names := make([]string, len(tasks))
			for j, t := range tasks {
				names[j] = t.Name
			}
			errs = append(errs, fmt.Errorf("%w: environment variable %s: no task %q (tasks: %s); add it in the file first", ErrInvalid, k, name, strings.Join(names, ", ")))
			continue
		}
		m := &tasks[i].Models
		if field == "data" {
			m = &tasks[i].Data
		}
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[lang] = strings.TrimSpace(val)
	}
	return errors.Join(errs...)
}

func cloneMap[V any](m map[string]V) map[string]V {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
