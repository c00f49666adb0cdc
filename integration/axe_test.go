package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Accessibility checks in the browser: axe-core (vendored from npm, with
// its licence, in testdata/axe-core/) is injected into the page over the
// DevTools protocol and run against WCAG 2.2 AA (the rules tagged wcag2a,
// wcag2aa, wcag21a, wcag21aa and wcag22aa). Every screenshot the browser
// tests take (uiSession.shoot) checks its page at both widths first.

var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "axe-core", "axe.min.js"))
	return string(b), err
})

// axeTags are the rule sets the pages must pass.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

type axeViolation struct {
	ID          string `json:"id"`
	Impact      string `json:"impact"`
	Description string `json:"description"`
	Nodes       []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// axe checks the page as it is now, failing the test with each violation.
func (s *uiSession) axe(where string) {
	s.t.Helper()
	for _, v := range s.axeViolations(where) {
		var nodes []string
		for i, n := range v.Nodes {
			if i == 5 {
				nodes = append(nodes, fmt.Sprintf("… and %d more", len(v.Nodes)-5))
				break
			}
			nodes = append(nodes, fmt.Sprintf("%v %s", n.Target, trimHTML(n.HTML)))
		}
		s.t.Errorf("axe on %s (%s): %s [%s, %s]:\n  %s", where, s.path(), v.Description, v.ID, v.Impact, strings.Join(nodes, "\n  "))
	}
	s.axeRuns++
}

// axeViolations runs axe-core on the page as it is now.
func (s *uiSession) axeViolations(where string) []axeViolation {
	s.t.Helper()
	src, err := axeSource()
	if err != nil {
		s.t.Fatalf("axe-core: %v", err)
	}
	ctx, cancel := context.WithTimeout(s.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined" || (function(){`+src+`; return true})()`)); err != nil {
		s.t.Fatalf("injecting axe-core into %s: %v", where, err)
	}
	tags, _ := json.Marshal(axeTags)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`}, resultTypes: ["violations"]})
		.then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		s.t.Fatalf("running axe-core on %s: %v", where, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		s.t.Fatalf("axe-core's answer on %s: %v", where, err)
	}
	return vs
}

func trimHTML(h string) string {
	if len(h) > 160 {
		return h[:160] + "…"
	}
	return h
}

// Keyboard only: Tab, Enter and Space as key events, no clicks.

// tabTo presses Tab until the focused element matches sel, failing after
// limit presses; the element must show that it has focus.
func (s *uiSession) tabTo(sel string, limit int) {
	s.t.Helper()
	for i := 0; i < limit; i++ {
		s.do("press Tab", chromedp.KeyEvent(kb.Tab))
		ok, err := chromedp.Run(s.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.activeElement !== null && document.activeElement.matches(%q)`, sel)))
		if err != nil {
			s.t.Fatal(err)
		}
		if ok {
			s.focusVisible(sel)
			return
		}
	}
	active, _ := chromedp.Run(s.ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : "none"`))
	s.t.Fatalf("%d presses of Tab never reached %s (focus is on %s)", limit, sel, active)
}

// focusVisible checks the focused element draws a focus indicator: an
// outline, a box shadow or the yellow background of GOV.UK's focus style.
func (s *uiSession) focusVisible(sel string) {
	s.t.Helper()
	// GOV.UK's radios and checkboxes hide the input and draw its focus
	// around the box their label draws (the label's ::before).
	ok, err := chromedp.Run(s.ctx, chromedp.Evaluate[bool](`(() => {
		const el = document.activeElement;
		const shows = st => (st.outlineStyle !== "none" && parseFloat(st.outlineWidth) >= 2) || st.boxShadow !== "none" ||
			st.backgroundColor === "rgb(255, 221, 0)";
		if (el.matches(".govuk-radios__input, .govuk-checkboxes__input")) {
			return shows(getComputedStyle(el.nextElementSibling, "::before"));
		}
		return shows(getComputedStyle(el));
	})()`))
	if err != nil {
		s.t.Fatal(err)
	}
	if !ok {
		s.t.Errorf("%s has focus but shows no focus indicator", sel)
	}
}

// press sends keys to the focused element.
func (s *uiSession) press(what, keys string) {
	s.t.Helper()
	s.do(what, chromedp.KeyEvent(keys))
}

// pressSubmit sends Enter to the focused button and waits for the page it
// brings.
func (s *uiSession) pressSubmit(what string) int64 {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.KeyEvent(kb.Enter))
	if err != nil {
		s.t.Fatalf("%s: %v (page now %s)", what, err, s.location())
	}
	return resp.Status
}

// setDate fills a GOV.UK date input: the day's input has the field's id,
// the month's and year's its id with -month and -year.
func (s *uiSession) setDate(id, date string) chromedp.Action[chromedp.Void] {
	parts := strings.Split(date, "-")
	if date == "" {
		parts = []string{"", "", ""}
	}
	if len(parts) != 3 {
		s.t.Fatalf("setDate %s: %q is not YYYY-MM-DD", id, date)
	}
	trim := func(v string) string { return strings.TrimLeft(v, "0") }
	return chromedp.Steps(
		chromedp.SetValue(chromedp.ID(id), trim(parts[2])),
		chromedp.SetValue(chromedp.ID(id+"-month"), trim(parts[1])),
		chromedp.SetValue(chromedp.ID(id+"-year"), parts[0]))
}

// want fails the test unless cond, saying what.
func want(t *testing.T, cond bool, format string, args ...any) {
	t.Helper()
	if !cond {
		t.Errorf(format, args...)
	}
}
