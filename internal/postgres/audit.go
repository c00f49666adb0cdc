package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one line of the audit log: who did what to which case, when,
// and from where.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	CaseID string    `json:"case_id,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Remote string    `json:"remote,omitempty"`
}

// Audit appends to the audit log. Every text is stored encoded
// (AuditText), so nothing a person typed can start a line of its own or
// hide in a reader's terminal. The database numbers and times the row and
// chains it to the one before (migration 011); the application's role may
// not change or remove it.
func (db *DB) Audit(ctx context.Context, e AuditEntry) error {
	_, err := db.q.Exec(ctx, `insert into audit (actor, action, case_id, detail, remote) values ($1, $2, nullif($3, ''), $4, $5)`,
		AuditText(e.Actor), AuditText(e.Action), AuditText(e.CaseID), AuditText(e.Detail), AuditText(e.Remote))
	return err
}

// AuditText encodes s for the audit log: printable text stays as it is, a
// backslash is doubled, and everything else — newlines and other control
// characters, line and paragraph separators, bidirectional overrides,
// bytes that are not UTF-8 — becomes a Go-style escape (\n, \x1b, \u2028),
// so that an entry is always one line that shows what was sent.
func AuditText(s string) string {
	plain := true
	for _, r := range s {
		if r == '\\' || r == utf8.RuneError || !unicode.IsPrint(r) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r) // '\n', '\x1b', '\u2028'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// AuditFilter narrows the audit log. Zero fields do not filter.
type AuditFilter struct {
	Actor  string
	Action string // a prefix: "case." matches every case action
	CaseID string
	From   time.Time
	To     time.Time
	Before int64 // page: entries with a smaller id
	Limit  int
}

// String says what the filter asks for, for the audit line of a read of
// the audit log (which encodes whatever the values hold).
func (f AuditFilter) String() string {
	var parts []string
	for _, kv := range [][2]string{{"actor", f.Actor}, {"action", f.Action}, {"case_id", f.CaseID}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	for _, kv := range []struct {
		name string
		at   time.Time
	}{{"from", f.From}, {"to", f.To}} {
		if !kv.at.IsZero() {
			parts = append(parts, kv.name+"="+kv.at.UTC().Format(time.RFC3339))
		}
	}
	if f.Before != 0 {
		parts = append(parts, "cursor="+strconv.FormatInt(f.Before, 10))
	}
	if len(parts) == 0 {
		return "filter=none"
	}
	return strings.Join(parts, " ")
}

// AuditLog reads the audit log, newest first.
func (db *DB) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	rows, err := db.q.Query(ctx, `select id, at, actor, action, coalesce(case_id, ''), detail, remote from audit
		where ($1 = '' or actor = $1) and ($2 = '' or starts_with(action, $2)) and ($3 = '' or case_id = $3)
		and ($4::timestamptz is null or at >= $4) and ($5::timestamptz is null or at < $5) and ($6 = 0 or id < $6)
		order by id desc limit $7`, f.Actor, f.Action, f.CaseID, from, to, f.Before, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.CaseID, &e.Detail, &e.Remote)
		return e, err
	})
}

// auditGenesis is the prev_hash of the first row of the chain.
var auditGenesis = make([]byte, sha256.Size)

// AuditHash is the hash of an audit row that follows a row whose hash is
// prev: SHA-256 of prev and the row's fields, each as a 4-byte big-endian
// length and its bytes. It is the Go twin of audit_row_hash (migration
// 011), which computes it as rows are written.
func AuditHash(prev []byte, e AuditEntry) []byte {
	h := sha256.New()
	h.Write(prev)
	for _, f := range []string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format("2006-01-02T15:04:05.000000Z"),
		e.Actor, e.Action, e.CaseID, e.Detail, e.Remote} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return h.Sum(nil)
}

// AuditVerification is what VerifyAudit found.
type AuditVerification struct {
	Rows     int    // rows checked, up to and including a broken one
	LastID   int64  // the chain's last row, as its head records it
	LastHash []byte // its hash: record it elsewhere to detect a rewritten chain
	// Broken is the first row that does not follow from the one before
	// (nil when the chain holds), and Reason says how.
	Broken *AuditEntry
	Reason string
}

// OK reports whether the whole chain holds.
func (v AuditVerification) OK() bool { return v.Broken == nil && v.Reason == "" }

// VerifyAudit recomputes the audit log's hash chain, oldest row first, in
// one snapshot, and stops at the first row that breaks it: a row whose
// fields were changed (its hash is not that of its fields), or that
// follows a removed or inserted row (its prev_hash is not the hash of the
// row before). The chain's head must name the last row, so removing the
// newest rows shows too. Someone who can rewrite every hash from the
// changed row on, and the head, is caught only by comparing LastHash with
// one recorded earlier.
func (db *DB) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	var v AuditVerification
	err := db.snapshot(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `select last_id, last_hash from audit_chain`).Scan(&v.LastID, &v.LastHash); err != nil {
			return fmt.Errorf("reading the audit chain's head: %w", err)
		}
		rows, err := tx.Query(ctx, `select id, at, actor, action, coalesce(case_id, ''), detail, remote, prev_hash, hash
			from audit order by id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		prev := auditGenesis
		var last AuditEntry
		for rows.Next() {
			var e AuditEntry
			var prevHash, hash []byte
			if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.CaseID, &e.Detail, &e.Remote, &prevHash, &hash); err != nil {
				return err
			}
			v.Rows++
			switch {
			case !bytes.Equal(prevHash, prev):
				v.Broken, v.Reason = &e, "its prev_hash is not the hash of the row before it: a row was removed or inserted before it, or it was changed"
			case !bytes.Equal(hash, AuditHash(prevHash, e)):
				v.Broken, v.Reason = &e, "its hash is not the hash of its fields: the row was changed"
			}
			if v.Broken != nil {
				return nil
			}
			prev, last = hash, e
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if last.ID != v.LastID || !bytes.Equal(prev, v.LastHash) {
			if v.Rows > 0 {
				v.Broken = &last
			}
			v.Reason = fmt.Sprintf("the chain's head names row %d (hash %s), but the last row is %d: rows at the end were removed, or the head was changed",
				v.LastID, hex.EncodeToString(v.LastHash), last.ID)
		}
		return nil
	})
	return v, err
}
