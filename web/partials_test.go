package web

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/resettlement"
)

// Every input partial, with and without a hint, an error and hints on its
// options: each id aria-describedby names must be an element of the
// rendered fragment, and each hint or error shown must be named by it, or
// a screen reader reads a hint that is not there, or misses one that is.
func TestPartialsDescribeOnlyWhatTheyRender(t *testing.T) {
	tmpl := pages["settings"] // every page set holds the partials
	opts := func(hinted bool) []option {
		o := []option{{Value: "each", Label: "Each"}, {Value: "digest", Label: "Digest"}}
		if hinted {
			o[1].Hint = "One email a day."
		}
		return o
	}
	for _, partial := range []string{"input", "date", "select", "textarea", "checkbox", "checkboxes", "radios"} {
		for _, hint := range []bool{false, true} {
			for _, fails := range []bool{false, true} {
				for _, optionHints := range []bool{false, true} {
					name := fmt.Sprintf("%s hint=%t error=%t option-hints=%t", partial, hint, fails, optionHints)
					t.Run(name, func(t *testing.T) {
						f := newForm("f", "/x", "notify")
						if fails {
							f.Errs["notify"] = "must be each or digest"
						}
						var args []string
						if hint {
							args = append(args, "hint=How often you hear from us.")
						}
						spec := newField(f, "notify", "How you are emailed", args...).Opts(opts(optionHints))
						var b bytes.Buffer
						if err := tmpl.ExecuteTemplate(&b, partial, spec); err != nil {
							t.Fatal(err)
						}
						html := b.String()
						ids := map[string]bool{}
						for _, m := range idAttr.FindAllStringSubmatch(html, -1) {
							ids[m[1]] = true
						}
						named := map[string]bool{}
						for _, m := range describer.FindAllStringSubmatch(html, -1) {
							for _, id := range strings.Fields(m[1]) {
								named[id] = true
								if !ids[id] {
									t.Errorf("aria-describedby names %q, which is not rendered:\n%s", id, html)
								}
							}
						}
						for id := range ids {
							if (strings.HasSuffix(id, "-hint") || strings.HasSuffix(id, "-error")) && !named[id] {
								t.Errorf("%q is rendered but nothing is described by it:\n%s", id, html)
							}
						}
						if hint != strings.Contains(html, "How often you hear from us.") {
							t.Errorf("the field's hint shown is %t, want %t:\n%s", !hint, hint, html)
						}
						if fails != strings.Contains(html, "must be each or digest") {
							t.Errorf("the error shown is %t, want %t:\n%s", !fails, fails, html)
						}
					})
				}
			}
		}
	}
}

// The case page's needs assessment lays out its own fieldset: refused as a
// whole, its error is shown and described too, as the partials' are.
func TestAssessmentErrorIsDescribed(t *testing.T) {
	a := &site{Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	failed := newForm("assessment", "/cases/k3m9x2p7qa/assessment", assessmentFields()...)
	failed.fail(casework.FieldsError(resettlement.Errors{{Field: "needs", Message: "record a need on at least one pathway, or skip the assessment"}}), nil)
	var fs caseForms
	fs.Owners, fs.Teams = sampleOwners(), []option{{Value: "bxi-resettlement", Label: "Brixton resettlement (BXI)"}}
	page := buildCasePage(caseInputs{v: sampleCase(t), teams: sampleTeams(), options: fs, now: pageNow, failed: failed})
	html := renderPage(t, a, "case", pageData{Title: page.Name, Summary: failed.summary(), Data: page})
	checkPage(t, "case", html)
	if !strings.Contains(html, `aria-describedby="assessment-needs-hint assessment-needs-error"`) ||
		!strings.Contains(html, `id="assessment-needs-error"`) {
		t.Errorf("the assessment's error is not tied to its fieldset:\n%s", html)
	}
}
