package casework

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Consent (issue 13): the person's consent to each purpose their details
// are shared for, with the day they gave it, who recorded it, and its
// withdrawal. It is personal data about the person's choices, so it lives
// in PostgreSQL only; the service checks it before a change that needs it
// (the case's workflow never knows):
//
//   - completing the housing referral step needs the duty-to-refer consent
//     (PurposeHousingReferral), or the change is refused naming consent;
//   - a partner link is sent only under a live consent for its purpose
//     (partners.go), and withdrawing the consent revokes the open links
//     sent under it.

// Consent purposes: the duty to refer to a housing authority (Homelessness
// Reduction Act 2017: the referral needs the person's consent), sharing
// with a GP practice, and sharing with one named partner ("partner:" and
// its name).
const (
	PurposeHousingReferral = "housing-referral"
	PurposeGPSharing       = "gp-sharing"
	PurposePartner         = "partner:"
)

// RecordConsent is an officer recording the person's consent to a purpose.
type RecordConsent struct {
	Purpose string `json:"purpose"`
	// GivenOn is the day the person gave it (zero: today).
	GivenOn resettlement.Date `json:"given_on,omitempty"`
}

// WithdrawConsent records that the person withdrew a consent.
type WithdrawConsent struct {
	// WithdrawnOn is the day they withdrew it (zero: today).
	WithdrawnOn resettlement.Date `json:"withdrawn_on,omitempty"`
}

// ConsentList is a case's consents, live and withdrawn, oldest first.
type ConsentList struct {
	CaseID string             `json:"case_id"`
	Items  []postgres.Consent `json:"items"`
}

// WithdrawnConsent answers a withdrawal: the consent, and the partner links
// it revoked.
type WithdrawnConsent struct {
	Consent postgres.Consent `json:"consent"`
	Revoked []string         `json:"revoked_links"`
}

// NormalisePurpose checks a purpose and writes it the one way it is
// stored: a partner's name trimmed, its spaces single. ok is false for
// anything else.
func NormalisePurpose(p string) (string, bool) {
	p = strings.TrimSpace(p)
	switch p {
	case PurposeHousingReferral, PurposeGPSharing:
		return p, true
	}
	name, ok := strings.CutPrefix(p, PurposePartner)
	if !ok {
		return "", false
	}
	name, ok = partnerName(name)
	return PurposePartner + name, ok
}

// partnerName checks a partner's name (1 to 100 characters of plain text)
// and returns it trimmed, its spaces single.
func partnerName(s string) (string, bool) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" || utf8.RuneCountInString(s) > 100 || strings.ContainsAny(s, "<>") {
		return s, false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.Is(unicode.Bidi_Control, r) {
			return s, false
		}
	}
	return s, true
}

// PurposeTitle says what a purpose is in words.
func PurposeTitle(p string) string {
	switch p {
	case PurposeHousingReferral:
		return "Duty to refer to a housing authority"
	case PurposeGPSharing:
		return "Sharing with a GP practice"
	}
	if name, ok := strings.CutPrefix(p, PurposePartner); ok {
		return "Sharing with " + name
	}
	return p
}

const purposeHelp = "must be housing-referral, gp-sharing, or partner: and the partner's name (up to 100 characters), such as partner:Islington Jobcentre"

// consentDay checks the day a consent was given or withdrawn: today when
// zero, never after today.
func (s *Service) consentDay(field string, d resettlement.Date, errs *resettlement.Errors) resettlement.Date {
	today := resettlement.DateOf(s.now())
	switch {
	case d.IsZero():
		return today
	case d.After(today):
		errs.Add(field, "cannot be after today")
	case d.Year < 1900:
		errs.Add(field, "must be a date from 1900")
	}
	return d
}

// openCaseRecord reads a case that must still be open for a change.
func (s *Service) openCaseRecord(ctx context.Context, caseID string) (postgres.CaseRecord, error) {
	rec, err := s.DB.Case(ctx, caseID)
	if errors.Is(err, postgres.ErrNotFound) {
		return rec, errNoCase
	}
	if err == nil && (rec.ClosedAt != nil || rec.State != nil && rec.State.Closed) {
		return rec, Errorf(Conflict, "The case is closed.")
	}
	return rec, err
}

// RecordConsent records the person's consent to a purpose for p, audited.
// A retry with the same key returns the first answer's consent (created
// false); a purpose that already has a live consent is a conflict.
func (s *Service) RecordConsent(ctx context.Context, p *auth.Principal, caseID, key string, r RecordConsent) (postgres.Consent, bool, error) {
	if err := s.access(ctx, p, caseID, "consent.record"); err != nil {
		return postgres.Consent{}, false, err
	}
	if err := CheckKey(key); err != nil {
		return postgres.Consent{}, false, err
	}
	var errs resettlement.Errors
	purpose, ok := NormalisePurpose(r.Purpose)
	if !ok {
		errs.Add("purpose", purposeHelp)
	}
	given := s.consentDay("given_on", r.GivenOn, &errs)
	if len(errs) > 0 {
		return postgres.Consent{}, false, FieldsError(errs)
	}
	if _, err := s.openCaseRecord(ctx, caseID); err != nil {
		return postgres.Consent{}, false, err
	}
	hash, err := requestHash("consent", caseID, purpose, r.GivenOn)
	if err != nil {
		return postgres.Consent{}, false, err
	}
	k := postgres.IdempotencyKey{Staff: p.ID(), Route: "consent.record", CaseID: caseID, Key: key}
	if _, err := s.claimKey(ctx, k, hash); err != nil {
		return postgres.Consent{}, false, err
	}
	c, created, err := s.DB.RecordConsent(ctx, postgres.Consent{CaseID: caseID, Purpose: purpose, GivenOn: given, RecordedBy: p.ID()}, key)
	detail := "purpose=" + purpose + " given=" + given.String()
	if errors.Is(err, postgres.ErrConsentExists) {
		_ = s.DB.ReleaseKey(context.WithoutCancel(ctx), k, hash)
		err = Errorf(Conflict, "The person's consent to this is already recorded: withdraw it first to record it again.",
			resettlement.FieldError{Field: "purpose", Message: "already has a consent recorded"})
	}
	if aerr := s.Audit(ctx, p, "consent.record", caseID, outcome(detail, err)); aerr != nil && err == nil {
		err = aerr
	}
	return c, created, err
}

// WithdrawConsent records that the person withdrew a consent, for p, and
// revokes every open partner link sent under it, audited. Withdrawing it
// again changes nothing.
func (s *Service) WithdrawConsent(ctx context.Context, p *auth.Principal, caseID, key string, id int64, w WithdrawConsent) (WithdrawnConsent, error) {
	if err := s.access(ctx, p, caseID, "consent.withdraw"); err != nil {
		return WithdrawnConsent{}, err
	}
	if err := CheckKey(key); err != nil {
		return WithdrawnConsent{}, err
	}
	var errs resettlement.Errors
	on := s.consentDay("withdrawn_on", w.WithdrawnOn, &errs)
	if len(errs) > 0 {
		return WithdrawnConsent{}, FieldsError(errs)
	}
	c, revoked, err := s.DB.WithdrawConsent(ctx, caseID, id, on, p.ID(), s.now())
	if errors.Is(err, postgres.ErrNotFound) {
		return WithdrawnConsent{}, Errorf(NotFound, "The case has no such consent.")
	}
	if err != nil {
		return WithdrawnConsent{}, err
	}
	if err := s.Audit(ctx, p, "consent.withdraw", caseID, fmt.Sprintf("consent=%d purpose=%s withdrawn=%s revoked=%d ok",
		id, c.Purpose, c.WithdrawnOn, len(revoked))); err != nil {
		return WithdrawnConsent{}, err
	}
	for _, l := range revoked {
		if err := s.Audit(ctx, p, "partner_link.revoke", caseID, "link="+l+" reason=consent-withdrawn ok"); err != nil {
			return WithdrawnConsent{}, err
		}
	}
	if revoked == nil {
		revoked = []string{}
	}
	return WithdrawnConsent{Consent: c, Revoked: revoked}, nil
}

// Consents lists a case's consents for p, audited.
func (s *Service) Consents(ctx context.Context, p *auth.Principal, caseID string) (ConsentList, error) {
	if err := s.access(ctx, p, caseID, "consent.list"); err != nil {
		return ConsentList{}, err
	}
	items, err := s.caseConsents(ctx, caseID)
	if err != nil {
		return ConsentList{}, err
	}
	return ConsentList{CaseID: caseID, Items: items}, s.Audit(ctx, p, "consent.list", caseID, "shown="+strconv.Itoa(len(items)))
}

func (s *Service) caseConsents(ctx context.Context, caseID string) ([]postgres.Consent, error) {
	items, err := s.DB.Consents(ctx, caseID)
	if items == nil {
		items = []postgres.Consent{}
	}
	return items, err
}

// errNoHousingConsent refuses to complete the housing referral without the
// person's consent to the duty to refer.
var errNoHousingConsent = FieldsError(resettlement.Errors{{Field: "consent",
	Message: "the duty-to-refer referral needs the person's consent (housing-referral): record it before completing this step"}})

// checkConsent checks a command has the consent it needs: completing the
// housing referral step needs the duty-to-refer consent. It is checked
// before the update (the workflow does not know consent), so a refusal
// changes nothing.
func (s *Service) checkConsent(ctx context.Context, caseID string, c Command) error {
	a, ok := c.(ActOnStep)
	if !ok || a.Action != resettlement.ActionComplete || a.StepID != resettlement.StepHousingReferral {
		return nil
	}
	has, err := s.DB.HasConsent(ctx, caseID, PurposeHousingReferral)
	if err != nil {
		return err
	}
	if !has {
		return errNoHousingConsent
	}
	return nil
}

// CaseConsents lists a case's consents for the case page, which is
// audited as a view of the case (OpenCaseFile) and shows them with it.
func (s *Service) CaseConsents(ctx context.Context, p *auth.Principal, caseID string) ([]postgres.Consent, error) {
	if err := s.access(ctx, p, caseID, "view"); err != nil {
		return nil, err
	}
	return s.caseConsents(ctx, caseID)
}
