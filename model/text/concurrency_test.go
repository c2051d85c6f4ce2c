package text

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

var concurrentInputs = []string{
	"选择珠江花园的原因就是方便，有电动扶梯直接到达海边，周围餐馆、食廊、商场、超市、摊位一应俱全。",
	"I don't like it!!!! Soooooo BAD :( #HappyBirthdayRemus @john_doe https://t.co/abc",
	"房间太小。其他的都一般。。。。。。。。。 iPhone手机 😂😂 👍🏽",
	"15.4寸笔记本的键盘确实爽，基本跟台式机差不多了，蛮喜欢数字小键盘",
}

// snapshot copies tokens out of the Buffer-owned memory.
func snapshot(toks []Token) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = fmt.Sprintf("%s|%v|%v|%v|%d|%d", strings.Clone(t.Text), t.Kind, t.Case, t.Seg, t.Start, t.End)
	}
	return out
}

// TestConcurrentTokenize runs many goroutines over one shared Tokenizer
// (and so one gse Segmenter); run with -race to check that segmentation
// only reads shared state. Each goroutine must see the sequential result.
func TestConcurrentTokenize(t *testing.T) {
	t.Parallel()
	tk := testTokenizer(t)
	var b Buffer
	want := make([][]string, 0, 2*len(concurrentInputs))
	for _, s := range concurrentInputs {
		want = append(want, snapshot(tk.Tokenize(&b, s)), snapshot(tk.Chars(&b, s)))
	}
	const goroutines, rounds = 16, 50
	var wg sync.WaitGroup
	errs := make(chan string, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			var b Buffer
			for i := range rounds {
				k := (g + i) % len(concurrentInputs)
				s := concurrentInputs[k]
				if got := snapshot(tk.Tokenize(&b, s)); !slices.Equal(got, want[2*k]) {
					errs <- fmt.Sprintf("goroutine %d Tokenize(%q) = %v, want %v", g, s, got, want[2*k])
					return
				}
				if got := snapshot(tk.Chars(&b, s)); !slices.Equal(got, want[2*k+1]) {
					errs <- fmt.Sprintf("goroutine %d Chars(%q) differs", g, s)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestBufferReuse checks that a Buffer reused across calls gives the same
// result as a fresh one (no stale state leaks between calls).
func TestBufferReuse(t *testing.T) {
	t.Parallel()
	tk := testTokenizer(t)
	var reused Buffer
	for _, s := range append(slices.Clone(concurrentInputs), "", "a", concurrentInputs[0]) {
		var fresh Buffer
		if got, want := snapshot(tk.Tokenize(&reused, s)), snapshot(tk.Tokenize(&fresh, s)); !slices.Equal(got, want) {
			t.Errorf("reused Buffer Tokenize(%q) = %v, want %v", s, got, want)
		}
	}
}
