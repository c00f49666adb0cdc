package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/throughgate/throughgate/workflows"
)

// Audit is what the checks found for a set of cases.
type Audit struct {
	Cases []CaseAudit
	// Alarms the cases' states say fired, and of them those the workflow
	// raised (the others were passed over by a higher alarm of the same
	// step that came due with them, resettlement.Case.TakeDue).
	Fired, Raised, PassedOver int
	// Emails the raised alarms wrote to the outbox, and of them those the
	// relay received; Duplicates counts extra deliveries (all with the same
	// Message-ID: an email's Message-ID is fixed, so a re-send carries it).
	Emails, Delivered, Duplicates int
	// Lost names every fired alarm with no email and every email never
	// delivered.
	Lost []string
	// Mismatches names every case whose read model differs from its
	// workflow's state.
	Mismatches []string
}

// CaseAudit is one case's part.
type CaseAudit struct {
	ID                            string
	Fired, Raised, PassedOver     int
	Emails, Delivered, Duplicates int
	Lost                          []string
	Mismatch                      string
}

// AuditCases checks each case: every alarm its workflow's state says fired
// was raised (or passed over by a higher one raised with it), every raised
// alarm has its emails in the outbox, every email reached the relay (a
// duplicate only with the same Message-ID), and the read model equals the
// workflow's state. It waits up to settle for emails still on their way
// and for projections still being saved.
func (t *Topology) AuditCases(ctx context.Context, ids []string, settle time.Duration) (Audit, error) {
	var a Audit
	deadline := time.Now().Add(settle)
	for _, id := range ids {
		var ca CaseAudit
		var err error
		for {
			ca, err = t.auditCase(ctx, id)
			if err == nil && len(ca.Lost) == 0 && ca.Mismatch == "" {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if err != nil {
			return a, fmt.Errorf("case %s: %w", id, err)
		}
		a.Cases = append(a.Cases, ca)
		a.Fired += ca.Fired
		a.Raised += ca.Raised
		a.PassedOver += ca.PassedOver
		a.Emails += ca.Emails
		a.Delivered += ca.Delivered
		a.Duplicates += ca.Duplicates
		a.Lost = append(a.Lost, ca.Lost...)
		if ca.Mismatch != "" {
			a.Mismatches = append(a.Mismatches, id+": "+ca.Mismatch)
		}
	}
	return a, nil
}

func (t *Topology) auditCase(ctx context.Context, id string) (CaseAudit, error) {
	ca := CaseAudit{ID: id}
	st, err := t.State(ctx, id)
	if err != nil {
		return ca, err
	}
	raised, err := t.RaisedAlarms(ctx, id)
	if err != nil {
		return ca, err
	}
	rows, err := t.Outbox(ctx, id)
	if err != nil {
		return ca, err
	}
	delivered := map[string]int{}
	for _, m := range t.Relay.Messages() {
		delivered[m.MessageID]++
	}
	byKey := map[string][]OutboxRow{}
	for _, r := range rows {
		byKey[r.AlarmKey] = append(byKey[r.AlarmKey], r)
	}
	ca.Fired = len(st.Case.Fired)
	for _, key := range st.Case.Fired {
		if raised[key] {
			ca.Raised++
			continue
		}
		// Passed over: a higher alarm of the same step (same cycle, step and
		// due date) was raised, or an unassigned notice whose steps have an
		// owner by now.
		prefix := key[:strings.LastIndex(key, "/")+1]
		over := strings.Contains(key, "/unassigned/")
		for k := range raised {
			if strings.HasPrefix(k, prefix) && rank(k) > rank(key) {
				over = true
			}
		}
		if over {
			ca.PassedOver++
			continue
		}
		ca.Lost = append(ca.Lost, fmt.Sprintf("case %s: alarm %s fired but was never raised", id, key))
	}
	for key := range raised {
		if !slices.Contains(st.Case.Fired, key) {
			ca.Lost = append(ca.Lost, fmt.Sprintf("case %s: alarm %s raised but not in the state's fired alarms", id, key))
		}
		if len(byKey[key]) == 0 {
			ca.Lost = append(ca.Lost, fmt.Sprintf("case %s: alarm %s raised with no email in the outbox", id, key))
		}
	}
	for _, r := range rows {
		if !raised[r.AlarmKey] {
			continue // a transfer notice or the like: not an alarm
		}
		ca.Emails++
		n := delivered[r.MessageID]
		switch {
		case r.MessageID == "" || n == 0:
			ca.Lost = append(ca.Lost, fmt.Sprintf("case %s: email %d (%s to %s) not delivered: %s after %d attempts", id, r.ID, r.AlarmKey, r.Recipient, r.State, r.Attempts))
		default:
			ca.Delivered++
			ca.Duplicates += n - 1
		}
	}
	ca.Mismatch, err = t.compareProjection(ctx, id, st)
	return ca, err
}

// rank orders one step's alarms up the ladder (reminder, due, escalations).
func rank(key string) int {
	switch {
	case strings.HasSuffix(key, "/reminder"):
		return 0
	case strings.HasSuffix(key, "/due"):
		return 1
	case strings.Contains(key, "/escalation-"):
		n := 0
		fmt.Sscanf(key[strings.LastIndex(key, "-")+1:], "%d", &n)
		return 1 + n
	}
	return -1
}

// compareProjection compares the read model with the workflow's state:
// the saved case (less the bookkeeping the projection leaves out), its
// version, stage, stall and escalation level, and the recent events.
func (t *Topology) compareProjection(ctx context.Context, id string, st workflows.State) (string, error) {
	rec, err := t.DB.Case(ctx, id)
	if err != nil {
		return "", err
	}
	if rec.State == nil {
		return "the read model has no saved state", nil
	}
	slim := *st.Case
	slim.Events, slim.Fired, slim.Requests = nil, nil, nil
	want, _ := json.Marshal(&slim)
	got, _ := json.Marshal(rec.State)
	var diffs []string
	if rec.Version != st.Case.Version {
		diffs = append(diffs, fmt.Sprintf("version %d, workflow %d", rec.Version, st.Case.Version))
	} else if string(want) != string(got) {
		diffs = append(diffs, "saved case differs: "+firstDiff(string(got), string(want)))
	}
	if rec.Stage != string(st.Stage) {
		diffs = append(diffs, fmt.Sprintf("stage %s, workflow %s", rec.Stage, st.Stage))
	}
	if rec.EscalationLevel != st.EscalationLevel || rec.Stalled != st.Stalled {
		diffs = append(diffs, fmt.Sprintf("escalation %d stalled %v, workflow %d %v", rec.EscalationLevel, rec.Stalled, st.EscalationLevel, st.Stalled))
	}
	rows, err := t.Pool.Query(ctx, `select seq, kind, coalesce(step_id, ''), coalesce(to_status, '') from case_events where case_id = $1`, id)
	if err != nil {
		return "", err
	}
	saved := map[int]string{}
	for rows.Next() {
		var seq int
		var kind, step, to string
		if err := rows.Scan(&seq, &kind, &step, &to); err != nil {
			return "", err
		}
		saved[seq] = kind + "/" + step + "/" + to
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	for _, e := range st.Case.Events {
		if w := e.Kind + "/" + e.StepID + "/" + string(e.To); saved[e.Seq] != w {
			diffs = append(diffs, fmt.Sprintf("event %d is %q in the read model, %q in the workflow", e.Seq, saved[e.Seq], w))
			break
		}
	}
	return strings.Join(diffs, "; "), nil
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-60)
	return fmt.Sprintf("read model …%s… workflow …%s…", a[from:min(len(a), i+60)], b[from:min(len(b), i+60)])
}

// State queries a case's workflow for its state, retrying while Temporal
// is unreachable, for up to 30 seconds.
func (t *Topology) State(ctx context.Context, id string) (workflows.State, error) {
	var st workflows.State
	var err error
	for range 60 {
		if st, err = t.queryState(ctx, id); err == nil {
			return st, nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return st, fmt.Errorf("querying the workflow: %w", err)
}

func (t *Topology) queryState(ctx context.Context, id string) (workflows.State, error) {
	var st workflows.State
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := t.Client.QueryWorkflow(qctx, workflows.WorkflowID(id), "", workflows.QueryState)
	if err != nil {
		return st, err
	}
	if err := v.Get(&st); err != nil {
		return st, err
	}
	if st.Case == nil {
		return st, errors.New("the workflow answered with no case")
	}
	return st, nil
}

// CaughtUp reports whether the engine has caught up with the cases ids:
// every alarm of theirs due more than slack ago raised, every email (of any
// case) raised more than slack ago sent, and the API and running workers
// ready. slack is the engine's normal latency: a timer firing, an activity,
// the sender's next poll.
func (t *Topology) CaughtUp(ctx context.Context, ids []string, slack time.Duration) bool {
	if !t.Ready() {
		return false
	}
	var late int
	if err := t.Pool.QueryRow(ctx, `select count(*) from outbox where created_at <= now() - $1::interval
		and state not in ('sent', 'digest', 'digested')`, slack).Scan(&late); err != nil || late > 0 {
		return false
	}
	for _, id := range ids {
		st, err := t.queryState(ctx, id)
		if err != nil {
			return false
		}
		if len(st.NextAlarms) > 0 && st.NextAlarms[0].At.Before(time.Now().Add(-slack)) {
			return false
		}
	}
	return true
}

// localActivityMarker names the marker the SDK records for a local activity.
const localActivityMarker = "LocalActivity"

// RaisedAlarms reads the keys of every alarm the case's workflow raised
// (a RaiseAlarm activity scheduled, or run locally) from its history,
// across every run.
func (t *Topology) RaisedAlarms(ctx context.Context, id string) (map[string]bool, error) {
	keys := map[string]bool{}
	dc := t.DataConverter
	runID := ""
	for range 100 {
		it := t.Client.GetWorkflowHistory(ctx, workflows.WorkflowID(id), runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		prev := ""
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				return nil, err
			}
			if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
				prev = a.GetContinuedExecutionRunId()
			}
			if a := e.GetActivityTaskScheduledEventAttributes(); a.GetActivityType().GetName() == workflows.ActivityRaiseAlarm {
				var in workflows.AlarmInput
				if err := dc.FromPayloads(a.GetInput(), &in); err != nil {
					return nil, err
				}
				keys[in.Alarm.Key] = true
			}
			// A case started since its activities became local records each
			// as a marker: the activity's type in "data", its result (which
			// names the alarm) in "result".
			if m := e.GetMarkerRecordedEventAttributes(); m.GetMarkerName() == localActivityMarker {
				var data struct{ ActivityType string }
				if err := dc.FromPayloads(m.GetDetails()["data"], &data); err != nil {
					return nil, err
				}
				if data.ActivityType != workflows.ActivityRaiseAlarm {
					continue
				}
				var res workflows.AlarmResult
				if err := dc.FromPayloads(m.GetDetails()["result"], &res); err != nil {
					return nil, err
				}
				keys[res.Alarm] = true
			}
		}
		if prev == "" {
			return keys, nil
		}
		runID = prev
	}
	return nil, errors.New("more than 100 runs")
}

// PayloadsSealed reports whether the case's workflow input, as Temporal
// stores it, is encrypted (PAYLOAD_KEYS) rather than in clear.
func (t *Topology) PayloadsSealed(ctx context.Context, id string) (bool, error) {
	it := t.Client.GetWorkflowHistory(ctx, workflows.WorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return false, err
		}
		if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			for _, p := range a.GetInput().GetPayloads() {
				if string(p.GetMetadata()["encoding"]) != "binary/encrypted" { // package codec's
					return false, nil
				}
			}
			return len(a.GetInput().GetPayloads()) > 0, nil
		}
	}
	return false, errors.New("no start event")
}

// OutboxRow is one email in the outbox.
type OutboxRow struct {
	ID                                    int64
	AlarmKey, Recipient, State, MessageID string
	Attempts                              int
	CreatedAt                             time.Time
	SentAt                                *time.Time
}

// Outbox reads a case's emails.
func (t *Topology) Outbox(ctx context.Context, id string) ([]OutboxRow, error) {
	rows, err := t.Pool.Query(ctx, `select id, alarm_key, recipient, state, coalesce(message_id, ''), attempts, created_at, sent_at
		from outbox where case_id = $1 order by id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxRow
	for rows.Next() {
		var r OutboxRow
		if err := rows.Scan(&r.ID, &r.AlarmKey, &r.Recipient, &r.State, &r.MessageID, &r.Attempts, &r.CreatedAt, &r.SentAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Unsent counts the emails raised up to before that have not been sent.
func (t *Topology) Unsent(ctx context.Context, before time.Time) (int, error) {
	var n int
	err := t.Pool.QueryRow(ctx, `select count(*) from outbox where created_at <= $1 and state not in ('sent', 'digest', 'digested')`, before).Scan(&n)
	return n, err
}

// StrayMessages lists messages the relay received that no outbox row
// explains: every email must carry its row's Message-ID.
func (t *Topology) StrayMessages(ctx context.Context) ([]string, error) {
	ids := map[string]bool{}
	rows, err := t.Pool.Query(ctx, `select message_id from outbox where message_id is not null`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		ids[m] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var stray []string
	for _, m := range t.Relay.Messages() {
		if !ids[m.MessageID] {
			stray = append(stray, fmt.Sprintf("%s %q to %v", m.MessageID, m.Subject, m.To))
		}
	}
	return stray, nil
}
