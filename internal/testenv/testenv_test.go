package testenv

import "testing"

func TestRequire(t *testing.T) {
	t.Setenv("TESTENV_A", "a")
	t.Setenv("TESTENV_B", "")
	if env := Require(t, "things", "hint", "TESTENV_A"); env["TESTENV_A"] != "a" {
		t.Fatalf("Require = %v", env)
	}
	t.Run("missing", func(t *testing.T) {
		Require(t, "things", "hint", "TESTENV_A", "TESTENV_B")
		t.Error("Require did not skip with TESTENV_B unset")
	})
}
