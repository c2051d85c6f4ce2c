package dataset

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestReadVectors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		words    []string
		vecs     []float32
	}{
		{"glove text", "the 0.5 -1\nparis 1e-1 2\n", []string{"the", "paris"}, []float32{0.5, -1, 0.1, 2}},
		{"word2vec header, repeated word", "3 2\nthe 0.5 -1\nthe 9 9\n\nparis 1 2\n", []string{"the", "paris"}, []float32{0.5, -1, 1, 2}},
		{"wink json", `{"precision":8,"dimensions":2,"size":2,"words":["the","paris"],"vectors":{"paris":[1,2,2.2,1],"the":[0.5,-1,1.1,0]},"unkVector":[0,0]}`,
			[]string{"the", "paris"}, []float32{0.5, -1, 1, 2}},
	} {
		v, err := ReadVectors(strings.NewReader(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if v.Dim != 2 || !slices.Equal(v.Words, tc.words) || !slices.Equal(v.Vecs, tc.vecs) || len(v.SHA256) != 64 {
			t.Errorf("%s: dim %d words %q vecs %v sha %q", tc.name, v.Dim, v.Words, v.Vecs, v.SHA256)
		}
	}
	for _, tc := range []struct {
		name, in, want string
		is             error
	}{
		{"empty", "", "empty", ErrFormat},
		{"ragged", "a 1 2\nb 1\n", "line 2", ErrField},
		{"not a number", "a 1 2\nb 1 x\n", "line 2", ErrField},
		{"nan", "a 1 NaN\n", "line 1", ErrField},
		{"too big for float32", "a 1 1e300\n", "line 1", ErrField},
		{"not utf-8", "a\xff 1 2\n", "line 1", ErrEncoding},
		{"json missing vector", `{"dimensions":2,"words":["a"],"vectors":{}}`, `"a"`, ErrField},
		{"json short vector", `{"dimensions":2,"words":["a"],"vectors":{"a":[1]}}`, `"a"`, ErrField},
		{"json broken", `{"dimensions":2,`, "vector JSON", ErrSyntax},
		{"json no words", `{"dimensions":2,"words":[],"vectors":{}}`, "no vectors", ErrFormat},
	} {
		_, err := ReadVectors(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
			t.Errorf("%s: error %v, want one naming %q and wrapping %v", tc.name, err, tc.want, tc.is)
		}
	}
}
