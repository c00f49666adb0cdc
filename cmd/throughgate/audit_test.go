package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
)

// `throughgate audit verify` says "ok N rows" (exit 0) or names the first
// broken row, encoded as the audit log encodes (exit 1); without its verb
// or a database it cannot check (exit 2).
func TestAuditVerifyOutput(t *testing.T) {
	var out bytes.Buffer
	if code := printVerification(postgres.AuditVerification{Rows: 42, LastID: 42, LastHash: []byte{0xab, 0xcd}}, &out); code != auditOK ||
		out.String() != "ok 42 rows; last row 42, hash abcd\n" {
		t.Errorf("ok: %d %q", code, out.String())
	}
	out.Reset()
	e := &postgres.AuditEntry{ID: 7, At: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Actor: "officer-1", Action: "case.view",
		CaseID: "k3m9x2p4qa", Detail: "changed\nby the owner", Remote: "192.0.2.1"}
	code := printVerification(postgres.AuditVerification{Rows: 7, Broken: e, Reason: "its hash is not the hash of its fields: the row was changed"}, &out)
	if code != auditBroken || !strings.HasPrefix(out.String(), "broken at row 7 (2026-03-02T10:00:00Z actor=officer-1 action=case.view case=k3m9x2p4qa detail=changed\\nby the owner remote=192.0.2.1): its hash") {
		t.Errorf("broken: %d %q", code, out.String())
	}
	var stderr bytes.Buffer
	if code := runAudit(nil, &out, &stderr); code != auditFailed || !strings.Contains(stderr.String(), "usage: throughgate audit verify") {
		t.Errorf("no verb: %d %q", code, stderr.String())
	}
	t.Setenv("DATABASE_URL", "")
	stderr.Reset()
	if code := runAudit([]string{"verify"}, &out, &stderr); code != auditFailed || !strings.Contains(stderr.String(), "DATABASE_URL is required") {
		t.Errorf("no database: %d %q", code, stderr.String())
	}
}
