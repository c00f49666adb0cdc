package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/resettlement"
)

// RunMigratePlan is `throughgate cases migrate-plan`: it moves running cases
// to another version of the plan (docs/design.md, "Deadlines and
// re-planning"), printing one line per case — what it gains, loses or sees
// moved — and a summary. With m.DryRun it changes nothing.
func RunMigratePlan(ctx context.Context, cfg config.Config, logger *slog.Logger, m casework.PlanMigration, out io.Writer) error {
	db, c, release, err := connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer release()
	svc := &casework.Service{DB: db, Temporal: c, Policy: cfg.Policy}
	to, ok := resettlement.PlanVersion(m.To)
	if ok {
		fmt.Fprintf(out, "Plan %d: %s\n", to.Version, to.Changes)
	}
	if m.DryRun {
		fmt.Fprintln(out, "Dry run: nothing is changed.")
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "case\tfrom\toutcome\trelease day\tsteps")
	counts := map[string]int{}
	err = svc.MigratePlans(ctx, m, func(r casework.PlanMigrationResult) {
		counts[r.Outcome]++
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", r.CaseID, r.Preview.From, r.Outcome, releaseChange(r.Preview), stepChanges(r.Preview))
	})
	tw.Flush()
	if err != nil {
		return err
	}
	var sum []string
	for _, o := range []string{"would move", "moved", "already on the plan", "closed"} {
		if counts[o] > 0 {
			sum = append(sum, fmt.Sprintf("%d %s", counts[o], o))
			delete(counts, o)
		}
	}
	for o, n := range counts {
		sum = append(sum, fmt.Sprintf("%d %s", n, o))
	}
	if len(sum) == 0 {
		sum = append(sum, "no case to move")
	}
	fmt.Fprintln(out, strings.Join(sum, "; "))
	return nil
}

func releaseChange(p resettlement.PlanPreview) string {
	if p.FromRelease == p.ToRelease || p.ToRelease.IsZero() {
		return "unchanged"
	}
	return p.FromRelease.String() + " → " + p.ToRelease.String()
}

func stepChanges(p resettlement.PlanPreview) string {
	if len(p.Changes) == 0 {
		return "none"
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return "on hold"
		}
		return t.In(resettlement.London).Format("2006-01-02 15:04")
	}
	var out []string
	for _, c := range p.Changes {
		switch c.Change {
		case "added":
			out = append(out, "+"+c.StepID+" due "+when(c.ToDue))
		case "removed":
			out = append(out, "-"+c.StepID)
		default:
			out = append(out, c.StepID+" "+when(c.FromDue)+" → "+when(c.ToDue))
		}
	}
	return strings.Join(out, ", ")
}
