//go:build !dev

package main

import (
	"bytes"
	"strings"
	"testing"
)

// The production build answers `throughgate dev` by saying how to get it,
// before reading any setting.
func TestDevLeftOut(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"dev"}, &out, &errs); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(errs.String(), "built without the dev stack") || !strings.Contains(errs.String(), "make run") {
		t.Errorf("stderr %q", errs.String())
	}
	out.Reset()
	run([]string{"help"}, &out, &errs)
	if !strings.Contains(out.String(), "not in this build") {
		t.Errorf("help does not say dev is left out:\n%s", out.String())
	}
}
