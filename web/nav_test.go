package web

import (
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
)

var navHref = regexp.MustCompile(`<a class="govuk-service-navigation__link" href="([^"]+)"`)

// The main navigation offers each role the pages it may use, and no
// others: loading a caseload to whoever may import one (casework.MayImport:
// everyone who opens cases, not administrators), marked current on the
// caseload pages.
func TestNavigationByRole(t *testing.T) {
	a := &site{Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	for _, c := range []struct {
		role string
		want []string
	}{
		{auth.RoleOfficer, []string{"/cases", "/cases/new", "/imports"}},
		{auth.RoleManager, []string{"/cases", "/cases/new", "/imports", "/board", "/board/events", "/reports/outcomes"}},
		{auth.RoleHead, []string{"/cases", "/cases/new", "/imports", "/board", "/board/events", "/reports/outcomes"}},
		{auth.RoleAdmin, []string{"/admin/staff", "/admin/teams", "/admin/audit"}},
	} {
		me := &auth.Principal{Staff: postgres.Staff{ID: c.role + "-1", Name: "Sam Staff", Role: c.role}}
		html := renderPage(t, a, "imports", pageData{Title: "Load a caseload", Section: "imports", Me: me, Data: importsPage{}})
		checkPage(t, "imports as "+c.role, html)
		var got []string
		for _, m := range navHref.FindAllStringSubmatch(html, -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: navigation %v, want %v", c.role, got, c.want)
		}
		mayImport := casework.MayImport(me) == nil
		if offered := strings.Contains(html, `href="/imports"`); offered != mayImport {
			t.Errorf("%s: the navigation offers the caseload page %v, but may import %v", c.role, offered, mayImport)
		}
		if mayImport && !strings.Contains(html, `href="/imports" aria-current="page">`+
			`<strong class="govuk-service-navigation__active-fallback">Load a caseload</strong>`) {
			t.Errorf("%s: the caseload page is not marked current:\n%s", c.role, html)
		}
	}
}
