package casework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// The review queue of prison movement events: those held (waiting for an
// earlier event) and parked (an unknown prison or person, or refused),
// for the managers of the teams at the prison they concern and the heads
// of service over them, who apply them again (after fixing what stopped
// them, such as the team) or dismiss them. Heads also see the events of
// prisons where no active team works.

// EventReviewItem is one event in the review queue: the record and, when
// the event carries the person's record, their name (for the managers
// who must find them; never logged).
type EventReviewItem struct {
	postgres.EventRecord
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
}

// EventReview is the review queue.
type EventReview struct {
	Items []EventReviewItem `json:"items"`
}

// ReviewStatuses are the statuses the review queue shows.
var ReviewStatuses = []string{postgres.EventHeld, postgres.EventParked}

var errNotReviewer = Errorf(Forbidden, "The review queue of prison movement events is for team managers and heads of service.")

var errNoEvent = Errorf(NotFound, "There is no such event in your review queue.")

// reviewScope is the establishments whose events p reviews, and whether
// p also sees the events of establishments no active team works at.
func (s *Service) reviewScope(ctx context.Context, p *auth.Principal) (establishments []string, unclaimed bool, err error) {
	if !p.CanSeeBoard() {
		return nil, false, errNotReviewer
	}
	teams := p.Reach.Managed
	if p.Staff.Role == auth.RoleHead {
		teams, unclaimed = p.Reach.Headed, true
	}
	all, err := s.DB.AllTeams(ctx)
	if err != nil {
		return nil, false, err
	}
	for _, t := range all {
		if slices.Contains(teams, t.ID) && !slices.Contains(establishments, t.Establishment) {
			establishments = append(establishments, t.Establishment)
		}
	}
	slices.Sort(establishments)
	return establishments, unclaimed, nil
}

// ReviewEvents is p's review queue (status: held, parked, or "" for both),
// oldest first; audited with the events shown.
func (s *Service) ReviewEvents(ctx context.Context, p *auth.Principal, status string) (EventReview, error) {
	ests, unclaimed, err := s.reviewScope(ctx, p)
	if err != nil {
		return EventReview{}, err
	}
	statuses := ReviewStatuses
	if status != "" {
		if !slices.Contains(ReviewStatuses, status) {
			return EventReview{}, FieldsError(resettlement.Errors{{Field: "status", Message: "must be held or parked"}})
		}
		statuses = []string{status}
	}
	recs, err := s.DB.EventReview(ctx, postgres.EventReviewFilter{Statuses: statuses, Establishments: ests, Unclaimed: unclaimed})
	if err != nil {
		return EventReview{}, err
	}
	out := EventReview{Items: make([]EventReviewItem, len(recs))}
	ids := make([]string, len(recs))
	for i, r := range recs {
		out.Items[i] = reviewItem(r)
		ids[i] = fmt.Sprint(r.ID)
	}
	return out, s.Audit(ctx, p, "event.review", "", fmt.Sprintf("shown=%d events=%s", len(recs), strings.Join(ids, ",")))
}

// reviewItem adds to a record the name its event carries, if any.
func reviewItem(r postgres.EventRecord) EventReviewItem {
	it := EventReviewItem{EventRecord: r}
	var env envelope
	if json.Unmarshal(r.Body, &env) == nil && env.AdditionalInformation.Prisoner != nil {
		it.GivenName, it.FamilyName = env.AdditionalInformation.Prisoner.FirstName, env.AdditionalInformation.Prisoner.LastName
	}
	return it
}

// reviewable reads an event in p's review queue: NotFound when there is
// none or it concerns a prison outside p's scope.
func (s *Service) reviewable(ctx context.Context, p *auth.Principal, id int64) (postgres.EventRecord, error) {
	ests, unclaimed, err := s.reviewScope(ctx, p)
	if err != nil {
		return postgres.EventRecord{}, err
	}
	rec, err := s.DB.Event(ctx, id)
	if errors.Is(err, postgres.ErrNotFound) {
		return rec, errNoEvent
	}
	if err != nil {
		return rec, err
	}
	in := slices.Contains(ests, rec.Establishment)
	if !in && unclaimed {
		claimed, err := s.DB.EstablishmentClaimed(ctx, rec.Establishment)
		if err != nil {
			return rec, err
		}
		in = !claimed
	}
	if !in {
		return rec, errNoEvent
	}
	return rec, nil
}

// ApplyEvent is a manager's "apply": the event is processed again now, as
// on delivery, with team (when given) as the team that takes a case at the
// establishment. An event already applied, ignored or dismissed is a
// conflict. The answer is the event with its new outcome, which may be
// parked again saying why.
func (s *Service) ApplyEvent(ctx context.Context, p *auth.Principal, id int64, team string) (EventResult, error) {
	rec, err := s.reviewable(ctx, p, id)
	if err != nil {
		return EventResult{}, err
	}
	if team != "" {
		t, err := s.DB.Team(ctx, team)
		if err != nil && !errors.Is(err, postgres.ErrNotFound) {
			return EventResult{}, err
		}
		if err != nil || !t.Active || t.Establishment != rec.Establishment {
			return EventResult{}, FieldsError(resettlement.Errors{{Field: "team", Message: "must be an active team at " + rec.Establishment + ", where the event happened"}})
		}
	}
	run := eventRun{by: p, team: team}
	if !run.processable(rec.Status) {
		return EventResult{EventRecord: rec}, Errorf(Conflict, "The event is "+rec.Status+" already: there is nothing to apply.")
	}
	after, err := s.processEvent(ctx, id, run)
	if aerr := s.Audit(ctx, p, "event.apply", after.CaseID, fmt.Sprintf("event=%d team=%s %s", id, team, applyOutcome(after, err))); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		return EventResult{}, err
	}
	return EventResult{EventRecord: after}, nil
}

func applyOutcome(rec postgres.EventRecord, err error) string {
	if err != nil {
		return "failed"
	}
	return "status=" + rec.Status
}

// DismissEvent is a manager's "dismiss": the event leaves the review queue
// with nothing done. Dismissing a dismissed event changes nothing; an
// applied or ignored one is a conflict.
func (s *Service) DismissEvent(ctx context.Context, p *auth.Principal, id int64) (EventResult, error) {
	rec, err := s.reviewable(ctx, p, id)
	if err != nil {
		return EventResult{}, err
	}
	unlock, err := s.DB.LockPerson(ctx, rec.PrisonNumber)
	if err != nil {
		return EventResult{}, err
	}
	defer unlock()
	if rec, err = s.DB.Event(ctx, id); err != nil {
		return EventResult{}, err
	}
	switch rec.Status {
	case postgres.EventDismissed:
		return EventResult{EventRecord: rec}, nil
	case postgres.EventApplied, postgres.EventIgnored:
		return EventResult{EventRecord: rec}, Errorf(Conflict, "The event is "+rec.Status+" already: there is nothing to dismiss.")
	}
	o := postgres.EventOutcome{Status: postgres.EventDismissed, Outcome: "dismissed by " + p.ID() + " (was " + rec.Status + ": " + rec.Outcome + ")",
		DecidedBy: p.ID()}
	if err := s.DB.SetEventOutcome(ctx, id, o, s.now()); err != nil {
		return EventResult{}, err
	}
	if err := s.Audit(ctx, p, "event.dismiss", rec.CaseID, fmt.Sprintf("event=%d was=%s", id, rec.Status)); err != nil {
		return EventResult{}, err
	}
	rec, err = s.DB.Event(ctx, id)
	return EventResult{EventRecord: rec}, err
}

// EventTeams are the active teams a manager may choose from when applying
// an event at an establishment.
func (s *Service) EventTeams(ctx context.Context, establishment string) ([]postgres.Team, error) {
	all, err := s.DB.AllTeams(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(t postgres.Team) bool { return !t.Active || t.Establishment != establishment }), nil
}
