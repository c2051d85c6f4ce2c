package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxCmdFileLines bounds the command's files: cmd is flags and wiring, the
// logic lives in the packages it wires (server, internal/bench, model...).
const maxCmdFileLines = 250

func TestCmdFilesStaySmall(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if lines := bytes.Count(b, []byte("\n")); lines > maxCmdFileLines {
			t.Errorf("%s has %d lines, over %d: move its logic into a package", f, lines, maxCmdFileLines)
		}
	}
	if n < 10 {
		t.Fatalf("only %d command files found", n)
	}
}
