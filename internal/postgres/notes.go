package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// AddNote stores a note and returns its id for the workflow to carry.
func (db *DB) AddNote(ctx context.Context, caseID, author, body string) (int64, error) {
	var id int64
	err := db.q.QueryRow(ctx, `insert into notes (case_id, author, body) values ($1, $2, $3) returning id`, caseID, author, body).Scan(&id)
	return id, err
}

// AddNoteOnce stores a note for a request on a case. A retry with the same
// request id on the same case gets the first note's id back and stores
// nothing more, so the retried workflow update carries the same note; the
// same request id on another case is another note.
func (db *DB) AddNoteOnce(ctx context.Context, caseID, author, body, requestID string) (int64, error) {
	var id int64
	err := db.q.QueryRow(ctx, `insert into notes (case_id, author, body, request_id) values ($1, $2, $3, $4)
		on conflict (case_id, request_id) where request_id is not null do update set request_id = excluded.request_id
		returning id`, caseID, author, body, requestID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

// DeleteUnusedNote removes a note of a change the case refused: no event
// names it, so it explains nothing and would only keep what was typed.
func (db *DB) DeleteUnusedNote(ctx context.Context, caseID string, id int64) error {
	_, err := db.q.Exec(ctx, `delete from notes n where n.id = $1 and n.case_id = $2
		and not exists (select 1 from case_events e where e.note_id = n.id)`, id, caseID)
	return err
}
