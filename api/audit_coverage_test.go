package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/throughgate/throughgate/internal/postgres"
)

// Every 403 the API answers is in the audit log, naming the request.
func TestForbiddenAnswersAreAudited(t *testing.T) {
	f := newAccounts(t)
	officer, admin := f.fullSession("officer-1"), f.fullSession("admin-1")
	for _, c := range []struct {
		who, method, path, body string
		cred                    any
		detail                  string
	}{
		{"officer-1", http.MethodGet, "/api/v1/audit", "", officer, "GET /api/v1/audit: Only administrators"},
		{"officer-1", http.MethodGet, "/api/v1/staff", "", officer, "GET /api/v1/staff: Only administrators"},
		{"admin-1", http.MethodGet, "/api/v1/cases", "", admin, "GET /api/v1/cases: Administrators manage"},
		{"admin-1", http.MethodGet, "/api/v1/cases/k3m9x2p4qa", "", admin, "GET /api/v1/cases/{caseID}: Administrators manage"},
		{"officer-1", http.MethodGet, "/api/v1/board", "", officer, "GET /api/v1/board: The board is for"},
		{"officer-1", http.MethodGet, "/api/v1/board/undeliverable", "", f.token(officer), "GET /api/v1/board/undeliverable: The board is for"},
	} {
		f.want(f.call(c.method, c.path, c.body, c.cred), http.StatusForbidden, c.method+" "+c.path)
		if !f.audited(c.who, "access.denied", c.detail) {
			t.Errorf("%s %s by %s: the 403 is not audited with %q", c.method, c.path, c.who, c.detail)
		}
	}
	if n := len(f.auditLines("admin-1", "access.denied")); n != 2 {
		t.Errorf("%d refusals audited for admin-1, want 2", n)
	}
}

// Reading the audit log is itself audited: the list (with its filters and
// how much it showed) and the CSV export.
func TestReadingTheAuditLogIsAudited(t *testing.T) {
	f := newAccounts(t)
	admin := f.fullSession("admin-1")
	f.want(f.call(http.MethodGet, "/api/v1/audit?actor=officer-1&action=case.&from=2026-01-01&limit=5", "", admin), http.StatusOK, "the list")
	if !f.audited("admin-1", "audit.read", "actor=officer-1 action=case. from=2026-01-01T00:00:00Z shown=0") {
		t.Errorf("the list is not audited: %+v", f.auditLines("admin-1", "audit.read"))
	}
	f.want(f.call(http.MethodGet, "/api/v1/audit", "", admin), http.StatusOK, "the whole list")
	if !f.audited("admin-1", "audit.read", "filter=none shown=") {
		t.Errorf("the unfiltered list is not audited: %+v", f.auditLines("admin-1", "audit.read"))
	}
	f.want(f.call(http.MethodGet, "/api/v1/audit.csv?case_id=k3m9x2p4qa", "", admin), http.StatusOK, "the export")
	if !f.audited("admin-1", "audit.export", "case_id=k3m9x2p4qa") {
		t.Error("the export is not audited with its filter")
	}
}

func (f *accounts) auditLines(actor, action string) []string {
	f.t.Helper()
	log, err := f.db.AuditLog(context.Background(), postgres.AuditFilter{Actor: actor, Action: action, Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range log {
		out = append(out, e.Detail)
	}
	return out
}
