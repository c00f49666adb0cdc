package casework

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/throughgate/throughgate/resettlement"
)

// Prison movement events (docs/design.md, "Prison movement events"): the
// HMPPS domain events a prison's systems publish when a person is received,
// released or has their sentence recalculated, read here into what
// Throughgate does about them. Everything in this file is pure: no clock,
// no database, no network.

// The event types Throughgate reads, as HMPPS names them.
const (
	EventReceived = "prison-offender-events.prisoner.received"
	EventReleased = "prison-offender-events.prisoner.released"
	EventUpdated  = "prisoner-offender-search.prisoner.updated"
)

// MovementEvent is one HMPPS domain event as Throughgate reads it. It
// holds personal data (the prison number, and the person's details when
// the event carries them), so it lives in PostgreSQL and in memory only:
// never in Temporal, a log line or the audit log.
type MovementEvent struct {
	Type         string
	Reason       string
	OccurredAt   time.Time
	PrisonNumber string
	// Prison is the establishment the person was received into or
	// released from (additionalInformation.prisonId); "" for an update.
	Prison string
	// Categories are what an update changed (categoriesChanged).
	Categories []string
	// Prisoner is the person's record when the event carries one
	// (additionalInformation.prisoner, Throughgate's extension in the
	// Prisoner Search shape); nil when it must be looked up.
	Prisoner *PrisonerRecord
}

// envelope is the JSON of an HMPPS domain event. Fields Throughgate does
// not use (description, detailUrl, publishedAt, the other
// additionalInformation members) are read past.
type envelope struct {
	EventType             string          `json:"eventType"`
	Version               json.RawMessage `json:"version"`
	OccurredAt            string          `json:"occurredAt"`
	AdditionalInformation struct {
		NomsNumber        string          `json:"nomsNumber"`
		Reason            string          `json:"reason"`
		PrisonID          string          `json:"prisonId"`
		CategoriesChanged []string        `json:"categoriesChanged"`
		Prisoner          *PrisonerRecord `json:"prisoner"`
	} `json:"additionalInformation"`
	PersonReference struct {
		Identifiers []struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"identifiers"`
	} `json:"personReference"`
}

// PrisonerRecord is a person's record in the shape of HMPPS Prisoner
// Search (GET /prisoner/{prisonerNumber}): who they are, the booking, and
// the sentence calculation's dates. An event may carry one under
// additionalInformation.prisoner; otherwise PRISONER_SEARCH_URL is asked.
type PrisonerRecord struct {
	PrisonerNumber string            `json:"prisonerNumber"`
	BookingID      FlexString        `json:"bookingId"`
	FirstName      string            `json:"firstName"`
	LastName       string            `json:"lastName"`
	DateOfBirth    resettlement.Date `json:"dateOfBirth"`
	PrisonID       string            `json:"prisonId"`

	SentenceStartDate                  resettlement.Date `json:"sentenceStartDate"`
	ConfirmedReleaseDate               resettlement.Date `json:"confirmedReleaseDate"`
	ConditionalReleaseDate             resettlement.Date `json:"conditionalReleaseDate"`
	AutomaticReleaseDate               resettlement.Date `json:"automaticReleaseDate"`
	ParoleEligibilityDate              resettlement.Date `json:"paroleEligibilityDate"`
	NonParoleDate                      resettlement.Date `json:"nonParoleDate"`
	PostRecallReleaseDate              resettlement.Date `json:"postRecallReleaseDate"`
	HomeDetentionCurfewEligibilityDate resettlement.Date `json:"homeDetentionCurfewEligibilityDate"`
	HomeDetentionCurfewActualDate      resettlement.Date `json:"homeDetentionCurfewActualDate"`
	ActualParoleDate                   resettlement.Date `json:"actualParoleDate"`
	TariffDate                         resettlement.Date `json:"tariffDate"`
	SentenceExpiryDate                 resettlement.Date `json:"sentenceExpiryDate"`
	LicenceExpiryDate                  resettlement.Date `json:"licenceExpiryDate"`
	TopupSupervisionExpiryDate         resettlement.Date `json:"topupSupervisionExpiryDate"`
	IndeterminateSentence              bool              `json:"indeterminateSentence"`
}

// FlexString reads a JSON string or number as text: Prisoner Search sends
// bookingId as a string, prison-api as a number.
type FlexString string

// UnmarshalJSON takes "123", 123 or null.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("must be text or a number")
		}
		*f = FlexString(n.String())
	}
	return nil
}

// Dates are the record's sentence-calculation dates as the domain holds them.
func (p *PrisonerRecord) Dates() resettlement.ReleaseDates {
	return resettlement.ReleaseDates{
		Confirmed: p.ConfirmedReleaseDate, CRD: p.ConditionalReleaseDate, ARD: p.AutomaticReleaseDate,
		PED: p.ParoleEligibilityDate, NPD: p.NonParoleDate, PRRD: p.PostRecallReleaseDate,
		HDCED: p.HomeDetentionCurfewEligibilityDate, HDCAD: p.HomeDetentionCurfewActualDate,
		APD: p.ActualParoleDate, TED: p.TariffDate, SED: p.SentenceExpiryDate, LED: p.LicenceExpiryDate,
		TUSED: p.TopupSupervisionExpiryDate, Indeterminate: p.IndeterminateSentence,
	}
}

// ParseEvent reads an event's JSON. It refuses, naming each field, what
// Throughgate cannot act on: no eventType, an occurredAt that is not an
// instant, and — for the types it acts on — a missing or malformed prison
// number or establishment. An event of another type needs only its type
// and time: it is recorded and ignored.
func ParseEvent(body []byte) (MovementEvent, error) {
	if bytes.Contains(body, []byte(`\u0000`)) {
		// PostgreSQL's jsonb takes no NUL, and its refusal would quote the body.
		return MovementEvent{}, Errorf(Malformed, "The event holds a NUL character (\\u0000), which no event has.",
			resettlement.FieldError{Field: "body", Message: "holds \\u0000"})
	}
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil {
		return MovementEvent{}, Errorf(Malformed, "The event is not an HMPPS domain event in JSON: "+jsonProblem(err)+".",
			resettlement.FieldError{Field: "body", Message: "is not a JSON event"})
	}
	if _, err := dec.Token(); err == nil {
		return MovementEvent{}, Errorf(Malformed, "The request body must hold one JSON event and nothing after it.",
			resettlement.FieldError{Field: "body", Message: "has something after the JSON object"})
	}
	ai := env.AdditionalInformation
	ev := MovementEvent{Type: strings.TrimSpace(env.EventType), Reason: strings.TrimSpace(ai.Reason),
		PrisonNumber: strings.TrimSpace(ai.NomsNumber), Prison: strings.TrimSpace(ai.PrisonID),
		Categories: ai.CategoriesChanged, Prisoner: ai.Prisoner}
	if ev.PrisonNumber == "" {
		for _, id := range env.PersonReference.Identifiers {
			if id.Type == "NOMS" {
				ev.PrisonNumber = strings.TrimSpace(id.Value)
			}
		}
	}
	var errs resettlement.Errors
	if ev.Type == "" || len(ev.Type) > 200 || !PlainText(ev.Type) {
		errs.Add("eventType", "is required: the HMPPS event type, such as "+EventReceived)
	}
	if len(ev.Reason) > 100 || !PlainText(ev.Reason) {
		errs.Add("additionalInformation.reason", "must be a reason code such as NEW_ADMISSION")
	}
	at, err := parseInstant(env.OccurredAt)
	if err != nil {
		errs.Add("occurredAt", "is required: when the movement happened, as an ISO 8601 date and time")
	}
	ev.OccurredAt = at
	if acted(ev.Type) {
		if !ValidPrisonNumber(ev.PrisonNumber) {
			errs.Add("additionalInformation.nomsNumber", "must be the person's prison number, such as A1234BC")
		}
		if ev.Type != EventUpdated && !resettlement.ValidEstablishment(ev.Prison) {
			errs.Add("additionalInformation.prisonId", "must be the establishment's three-letter code, such as PVI")
		}
		if p := ev.Prisoner; p != nil && p.PrisonerNumber != "" && p.PrisonerNumber != ev.PrisonNumber {
			errs.Add("additionalInformation.prisoner.prisonerNumber", "must be the event's prison number")
		}
	}
	if len(errs) > 0 {
		return ev, FieldsError(errs)
	}
	return ev, nil
}

// acted reports whether Throughgate acts on events of the type (and so
// needs a person and a place in them).
func acted(eventType string) bool {
	return eventType == EventReceived || eventType == EventReleased || eventType == EventUpdated
}

// parseInstant reads occurredAt: RFC 3339 with a zone, or a local date and
// time with none (some HMPPS publishers send those), read in London.
func parseInstant(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, resettlement.London); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date and time", s)
}

func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "not valid JSON at byte " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typ):
		return typ.Field + " is of the wrong type"
	}
	return "it could not be read"
}

// Movement is what an event asks Throughgate to do.
type Movement string

const (
	// MoveOpen: a new admission opens a case.
	MoveOpen Movement = "open"
	// MoveReadmit: a readmission resets the person's released case for a
	// recall, or opens a new case when their last one is closed.
	MoveReadmit Movement = "readmit"
	// MoveTransfer: a reception on transfer moves the open case.
	MoveTransfer Movement = "transfer"
	// MoveRelease: a release records the release on the case.
	MoveRelease Movement = "release"
	// MoveDates: a sentence change re-plans from the new release dates.
	MoveDates Movement = "dates"
	// MoveNone: nothing to do; the event is recorded as ignored.
	MoveNone Movement = "none"
)

// Received and released reasons, as prison-offender-events gives them.
const (
	ReasonNewAdmission       = "NEW_ADMISSION"
	ReasonReadmission        = "READMISSION"
	ReasonTransferred        = "TRANSFERRED"
	ReasonReturnFromCourt    = "RETURN_FROM_COURT"
	ReasonTemporaryReturn    = "TEMPORARY_ABSENCE_RETURN"
	ReasonReleased           = "RELEASED"
	ReasonSentToCourt        = "SENT_TO_COURT"
	ReasonTemporaryRelease   = "TEMPORARY_ABSENCE_RELEASE"
	CategorySentence         = "SENTENCE"
	reasonReadmissionSwitch  = "READMISSION_SWITCH_BOOKING"
	reasonPostMergeAdmission = "POST_MERGE_ADMISSION"
)

// Classify says what an event of a type, with a reason (received and
// released) or changed categories (updated), asks for, and in words why:
// the table in README.md, "Prison movement events".
func Classify(eventType, reason string, categories []string) (Movement, string) {
	switch eventType {
	case EventReceived:
		switch reason {
		case ReasonNewAdmission:
			return MoveOpen, "a new admission opens a case"
		case ReasonReadmission:
			return MoveReadmit, "a readmission resets the released case for a recall, or opens a new case"
		case ReasonTransferred:
			return MoveTransfer, "a reception on transfer moves the case to the receiving prison"
		case ReasonReturnFromCourt, ReasonTemporaryReturn:
			return MoveNone, "a return from court or temporary absence changes nothing"
		case reasonReadmissionSwitch, reasonPostMergeAdmission:
			return MoveNone, "reception reason " + reason + " is a records correction: it changes nothing"
		}
		return MoveNone, "reception reason " + quoteReason(reason) + " is not acted on"
	case EventReleased:
		switch reason {
		case ReasonReleased:
			return MoveRelease, "a release records the release on the case"
		case ReasonTransferred:
			return MoveNone, "leaving on transfer changes nothing: the receiving prison's reception moves the case"
		case ReasonSentToCourt, ReasonTemporaryRelease:
			return MoveNone, "a court appearance or temporary absence changes nothing"
		}
		return MoveNone, "release reason " + quoteReason(reason) + " is not acted on"
	case EventUpdated:
		if slices.Contains(categories, CategorySentence) {
			return MoveDates, "a sentence change re-plans the case from the new release dates"
		}
		return MoveNone, "the update changed no sentence dates"
	}
	return MoveNone, "event type " + quoteReason(eventType) + " is not acted on"
}

func quoteReason(s string) string {
	if s == "" {
		return "(none)"
	}
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}
