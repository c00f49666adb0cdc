package drill

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// LockCase holds a lock on a case's read-model row, so the next SaveCase
// or RaiseAlarm (whose outbox rows refer to the case) of its workflow
// blocks in PostgreSQL, in the middle of the activity, until release is
// called. It is how the drill catches a worker
// (or an update waiting on the save) in flight.
func (t *Topology) LockCase(ctx context.Context, id string) (release func(), err error) {
	tx, err := t.Pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `select 1 from cases where id = $1 for update`, id); err != nil {
		_ = tx.Rollback(ctx)
		return nil, err
	}
	return func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }, nil
}

// BlockedOn waits until a connection to Throughgate's database is waiting
// for a lock, and returns which of procs holds it (its client end), with
// the statement it is running.
func (t *Topology) BlockedOn(ctx context.Context, procs []*Process, within time.Duration) (*Process, string, error) {
	deadline := time.Now().Add(within)
	for {
		rows, err := t.Pool.Query(ctx, `select client_port, query from pg_stat_activity
			where datname = 'throughgate' and wait_event_type = 'Lock' and state = 'active' and client_port is not null`)
		if err != nil {
			return nil, "", err
		}
		type waiter struct {
			port  int
			query string
		}
		var ws []waiter
		for rows.Next() {
			var w waiter
			if err := rows.Scan(&w.port, &w.query); err != nil {
				rows.Close()
				return nil, "", err
			}
			ws = append(ws, w)
		}
		rows.Close()
		for _, w := range ws {
			if p := processWithPort(w.port, procs); p != nil {
				return p, strings.Join(strings.Fields(w.query), " "), nil
			}
		}
		if time.Now().After(deadline) {
			return nil, "", fmt.Errorf("no process was blocked on the lock within %s", within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// processWithPort finds which process has a TCP socket whose local port is
// port: the client end of a database connection (Linux /proc).
func processWithPort(port int, procs []*Process) *Process {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		s := bufio.NewScanner(fh)
		for s.Scan() {
			fields := strings.Fields(s.Text())
			if len(fields) < 10 {
				continue
			}
			_, hexPort, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil && int(p) == port {
				inodes["socket:["+fields[9]+"]"] = true
			}
		}
		fh.Close()
	}
	for _, p := range procs {
		pid := p.Pid()
		if pid == 0 {
			continue
		}
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if l, err := os.Readlink(dir + "/" + e.Name()); err == nil && inodes[l] {
				return p
			}
		}
	}
	return nil
}

// KeyClaimed reports whether the API has recorded an Idempotency-Key: the
// request carrying it reached the application service.
func (t *Topology) KeyClaimed(ctx context.Context, key string) (bool, error) {
	var n int
	err := t.Pool.QueryRow(ctx, `select count(*) from idempotency_keys where key = $1`, key).Scan(&n)
	return n > 0, err
}
