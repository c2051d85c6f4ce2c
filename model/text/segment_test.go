package text

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// TestSegmentMatchesGse segments every Han run of a few built-in sentences
// and, where ../shared/data is beside the repository, of the Chinese
// corpora's dev splits (up to 3,000 lines each), with segment and with
// gse's Segment, and requires the same words: models were trained on gse's
// segmentation.
func TestSegmentMatchesGse(t *testing.T) {
	t.Parallel()
	tk := testTokenizer(t)
	lines := []string{
		"选择珠江花园的原因就是方便，有电动扶梯直接到达海边",
		"我今天在北京吃了一家很好吃的外卖，送餐太慢了",
		"張三說上海的天氣不錯𠀀𠀁", "〇", "的的的的的的的的的的的的的的的的的的的的的的的的的",
		"中华人民共和国国务院总理李克强在人民大会堂会见了来访的外国领导人",
	}
	root := filepath.Join("..", "..", "..", "shared", "data")
	for _, name := range []string{"chnsenticorp", "waimai_10k", "weibo_ner", "resume_ner", "msra_ner"} {
		f, err := os.Open(filepath.Join(root, name, "dev.jsonl"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 0; sc.Scan() && n < 3000; n++ {
			var ex struct {
				Text   string   `json:"text"`
				Tokens []string `json:"tokens"`
			}
			if json.Unmarshal(sc.Bytes(), &ex) != nil {
				continue
			}
			if ex.Text == "" {
				for _, w := range ex.Tokens {
					ex.Text += w
				}
			}
			lines = append(lines, ex.Text)
		}
		f.Close()
	}
	var b Buffer
	runs, words := 0, 0
	for _, line := range lines {
		rs := []rune(line)
		for p := 0; p < len(rs); {
			if !IsHan(rs[p]) {
				p++
				continue
			}
			q := p + 1
			for q < len(rs) && IsHan(rs[q]) {
				q++
			}
			region := []byte(string(rs[p:q]))
			var want []int32
			for _, s := range tk.seg.Segment(region) {
				want = append(want, int32(utf8.RuneCount(region[s.Start():s.End()])))
			}
			got := tk.segment(&b, region)
			if !equalInt32(got, want) {
				t.Fatalf("%q: segment gives word lengths %v, gse %v", region, got, want)
			}
			runs++
			words += len(want)
			p = q
		}
	}
	t.Logf("%d Han runs, %d words, all as gse segments them", runs, words)
}

func equalInt32(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
