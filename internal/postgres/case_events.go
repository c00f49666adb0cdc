package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/resettlement"
)

// TimelineEntry is an event with the note that explains it.
type TimelineEntry struct {
	resettlement.Event
	Note string `json:"note,omitempty"`
}

// Timeline returns the case's whole history, oldest first.
func (db *DB) Timeline(ctx context.Context, caseID string) ([]TimelineEntry, error) {
	rows, err := db.q.Query(ctx, `select e.seq, e.at, coalesce(e.by_staff, ''), e.kind, coalesce(e.step_id, ''),
		coalesce(e.from_status, ''), coalesce(e.to_status, ''), coalesce(e.note_id, 0), e.text, coalesce(n.body, '')
		from case_events e left join notes n on n.id = e.note_id where e.case_id = $1 order by e.seq`, caseID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (TimelineEntry, error) {
		var t TimelineEntry
		var from, to string
		err := row.Scan(&t.Seq, &t.At, &t.By, &t.Kind, &t.StepID, &from, &to, &t.NoteID, &t.Text, &t.Note)
		t.From, t.To = resettlement.StepStatus(from), resettlement.StepStatus(to)
		return t, err
	})
}
