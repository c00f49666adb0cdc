package postgres

import (
	"context"
	"time"
)

// TakeSendSlot reserves the next moment a message may go to the SMTP relay
// named by key, under a limit of one message every interval shared by
// every sender on this database: it returns the slot (on the database's
// clock) and how long to wait for it (zero when it is now). Slots are handed out one at a time, each at least
// interval after the one before, whichever sender asks: N senders together
// keep to the one rate. The wait is measured on the database's clock and
// applied from when the answer arrives, so a sender never goes early
// whatever its own clock says. A slot not used (the send failed to start)
// is simply lost.
func (db *DB) TakeSendSlot(ctx context.Context, key string, interval time.Duration) (slot time.Time, wait time.Duration, err error) {
	var us int64
	err = db.q.QueryRow(ctx, `insert into outbox_rate as r (key, next_slot) values ($1, now() + $2::interval)
		on conflict (key) do update set next_slot = greatest(r.next_slot, now()) + $2::interval
		returning r.next_slot - $2::interval, (extract(epoch from (r.next_slot - $2::interval - now())) * 1000000)::bigint`,
		key, interval).Scan(&slot, &us)
	if err != nil {
		return time.Time{}, 0, err
	}
	return slot, max(time.Duration(us)*time.Microsecond, 0), nil
}
