package casework

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/throughgate/throughgate/resettlement"
)

// How a sender proves an event is theirs (README.md, "Prison movement
// events"): each source has a secret (EVENT_SOURCES), and signs
//
//	<timestamp>.<event id>.<raw body>
//
// with HMAC-SHA256, sending the headers below. The timestamp (Unix
// seconds) must be within MaxEventSkew of the server's clock, so a
// captured request cannot be replayed later; the event id is signed too,
// so a replay cannot pass as a new event.
const (
	HeaderEventSource    = "X-Throughgate-Source"
	HeaderEventID        = "X-Throughgate-Event-Id"
	HeaderEventTimestamp = "X-Throughgate-Timestamp"
	HeaderEventSignature = "X-Throughgate-Signature"
)

// MaxEventSkew is how far an event's timestamp may be from the clock.
const MaxEventSkew = 5 * time.Minute

// EventSource is one sender of events and its secret.
type EventSource struct {
	Name   string
	Secret []byte
}

// SignedDelivery is one POST of an event: its headers and raw body.
type SignedDelivery struct {
	Source, EventID, Timestamp, Signature string
	Body                                  []byte
}

// SignEvent is the X-Throughgate-Signature value of an event: "sha256="
// and the hex HMAC-SHA256, under secret, of timestamp, event id and body
// joined by full stops.
func SignEvent(secret []byte, timestamp, eventID string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write([]byte(eventID))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

var errEventSignature = Errorf(Unauthenticated, "The event's signature does not match: send "+HeaderEventSource+" naming a configured source and "+
	HeaderEventSignature+": sha256=<hex HMAC-SHA256 of timestamp.event-id.body under the source's secret>.",
	resettlement.FieldError{Field: HeaderEventSignature, Message: "does not match the source's secret"})

// VerifyDelivery checks a delivery's signature against the configured
// sources and its timestamp against now, and returns the source's name.
// Every way it can fail is Unauthenticated; an unknown source and a wrong
// signature answer alike (and take the same time), so a stranger learns
// nothing of which sources exist. The event id is checked last: it is
// part of what is signed.
func VerifyDelivery(sources []EventSource, d SignedDelivery, now time.Time) (string, error) {
	var errs resettlement.Errors
	if d.Source == "" {
		errs.Add(HeaderEventSource, "is required: the name of the source sending the event")
	}
	if d.Timestamp == "" {
		errs.Add(HeaderEventTimestamp, "is required: the time of sending, in Unix seconds")
	}
	if d.Signature == "" {
		errs.Add(HeaderEventSignature, "is required: sha256= and the hex HMAC-SHA256 of timestamp.event-id.body")
	}
	if len(errs) > 0 {
		return "", &Error{Kind: Unauthenticated, Detail: "Events must be signed: see errors for the headers missing.", Fields: errs}
	}
	secret, known := []byte("no such source: a key that matches nothing"), false
	for _, s := range sources {
		if hmac.Equal([]byte(s.Name), []byte(d.Source)) {
			secret, known = s.Secret, true
		}
	}
	want := SignEvent(secret, d.Timestamp, d.EventID, d.Body)
	got := strings.ToLower(strings.TrimSpace(d.Signature))
	if !hmac.Equal([]byte(want), []byte(got)) || !known {
		return "", errEventSignature
	}
	sec, err := strconv.ParseInt(d.Timestamp, 10, 64)
	if err != nil {
		return "", Errorf(Unauthenticated, "The event's timestamp is not a time.",
			resettlement.FieldError{Field: HeaderEventTimestamp, Message: "must be the time of sending in Unix seconds"})
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > MaxEventSkew || skew < -MaxEventSkew {
		return "", Errorf(Unauthenticated, "The event's timestamp is more than 5 minutes from the server's clock: sign it afresh when sending (and check the sender's clock).",
			resettlement.FieldError{Field: HeaderEventTimestamp, Message: "must be within 5 minutes of the server's clock"})
	}
	if err := CheckEventID(d.EventID); err != nil {
		return "", err
	}
	return d.Source, nil
}

// CheckEventID checks the id a source gives an event: what makes a
// redelivery harmless. 1 to 100 printable ASCII characters, no spaces.
func CheckEventID(id string) error {
	bad := id == "" || len(id) > 100
	for _, c := range id {
		if c < 0x21 || c > 0x7e {
			bad = true
		}
	}
	if bad {
		return Errorf(Malformed, "Every event needs an id: send "+HeaderEventID+" with a value unique to the event (such as its SNS MessageId), the same on every redelivery.",
			resettlement.FieldError{Field: HeaderEventID, Message: "is required: up to 100 printable characters, no spaces"})
	}
	return nil
}
