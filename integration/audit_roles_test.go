package integration

import (
	"context"
	"testing"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/workflows"
)

// The dev stack runs as production should: its private cluster's
// superuser owns the tables and migrates, and the engine connects as the
// application's role, which cannot change the audit log; the audit
// log's chain holds after a start, and the nightly retention sweep is
// scheduled beside the digest.
func TestDevStackAuditRolesAndRetentionSchedule(t *testing.T) {
	d := startDev(t, devConfig(t, t.TempDir()))
	defer d.Stop()
	ctx := context.Background()
	if role, err := d.DB.CurrentRole(ctx); err != nil || role != postgres.AppRole {
		t.Errorf("the engine connects as %q (%v), want %s", role, err, postgres.AppRole)
	}
	if ok, err := d.DB.AuditProtected(ctx); err != nil || !ok {
		t.Errorf("AuditProtected = %t, %v: the engine's role could change the audit log", ok, err)
	}
	if err := d.Cases.AuditAs(ctx, "officer-1", "127.0.0.1", "case.view", "", "a line\nwith a forged second"); err != nil {
		t.Fatal(err)
	}
	if v, err := d.DB.VerifyAudit(ctx); err != nil || !v.OK() || v.Rows == 0 {
		t.Errorf("audit chain: %+v %v", v, err)
	}
	for _, id := range []string{workflows.DailyDigestScheduleID, workflows.RetentionScheduleID} {
		if _, err := d.Client.ScheduleClient().GetHandle(ctx, id).Describe(ctx); err != nil {
			t.Errorf("schedule %s: %v", id, err)
		}
	}
}
