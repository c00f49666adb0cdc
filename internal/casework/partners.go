package casework

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/throughgate/throughgate/internal/auth"
	tgmail "github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Partner links (issue 13). From a step that waits on another agency, an
// officer sends the partner (a council's housing options team, a GP
// practice, a Jobcentre) a single-use link by email, and tells them a
// short reference by phone. The link's page shows the case reference, the
// step's title and what is asked; the person's name only once the
// reference is given. The partner answers once — done, or still waiting
// with a note — and the answer is an ActOnStep on the case by the actor
// "partner:<link id>", through the same path (apply) and audit as any
// other. The step's owner is emailed the answer.
//
// The link's token (32 random bytes) and the reference are stored as
// SHA-256 hashes; a link expires (PartnerLinkDays, default 14 days), can be
// revoked, locks after five wrong references, and works once. Every use —
// a view, a reference tried, an answer — is audited. A link is sent only
// under a live consent for its purpose (consent.go).

// DefaultPartnerLinkDays is how long a partner link works unless
// PARTNER_LINK_DAYS says otherwise.
const DefaultPartnerLinkDays = 14

func (s *Service) partnerLinkLife() time.Duration {
	days := s.PartnerLinkDays
	if days <= 0 {
		days = DefaultPartnerLinkDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// SendPartnerLink is an officer sending a partner a link to a waiting step.
type SendPartnerLink struct {
	StepID       string `json:"-"` // from the address
	PartnerName  string `json:"partner_name"`
	PartnerEmail string `json:"partner_email"`
	// Ask is what the partner is asked, shown on the link's page (never
	// emailed): free text, kept as a note of the case.
	Ask string `json:"ask"`
	// Purpose is the consent the link is sent under (NormalisePurpose);
	// empty: the step's own (housing-referral for the housing referral,
	// gp-sharing for GP registration), else partner:<partner_name>.
	Purpose string `json:"purpose,omitempty"`
}

// States of a partner link.
const (
	LinkOpen     = "open"
	LinkAnswered = "answered"
	LinkRevoked  = "revoked"
	LinkExpired  = "expired"
	LinkLocked   = "locked"
)

// PartnerLinkView is a link as officers see it.
type PartnerLinkView struct {
	postgres.PartnerLink
	State string `json:"state"` // LinkOpen, LinkAnswered, LinkRevoked, LinkExpired or LinkLocked
}

// SentPartnerLink answers the sending of a link: the link, and the
// reference to tell the partner by phone, shown this once ("" when a
// retried request finds the link sent already).
type SentPartnerLink struct {
	Link      PartnerLinkView `json:"link"`
	Reference string          `json:"reference,omitempty"`
}

// PartnerLinkList is the links of a step, newest first.
type PartnerLinkList struct {
	CaseID string            `json:"case_id"`
	StepID string            `json:"step_id"`
	Items  []PartnerLinkView `json:"items"`
}

// linkState is what a link is at an instant.
func linkState(l postgres.PartnerLink, now time.Time) string {
	switch {
	case l.AnsweredAt != nil:
		return LinkAnswered
	case l.RevokedAt != nil:
		return LinkRevoked
	case l.LockedAt != nil:
		return LinkLocked
	case !now.Before(l.ExpiresAt):
		return LinkExpired
	}
	return LinkOpen
}

func (s *Service) linkView(l postgres.PartnerLink) PartnerLinkView {
	return PartnerLinkView{PartnerLink: l, State: linkState(l, s.now())}
}

// Tokens and references.

// referenceAlphabet has no letters or digits that read alike (0/O, 1/I/L).
const referenceAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// newReference is eight characters of referenceAlphabet, shown as two
// groups of four: "K7PQ-4MXZ" (some 40 bits, and five tries).
func newReference() string {
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = referenceAlphabet[int(b[i])%len(referenceAlphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// normaliseReference is a reference as typed, upper-cased, without spaces
// or dashes.
func normaliseReference(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// referenceHash is what a link's reference is kept as: the SHA-256 of the
// link's id and the reference, so one reference cannot be looked up
// across links.
func referenceHash(linkID, reference string) []byte {
	sum := sha256.Sum256([]byte("throughgate partner reference\x00" + linkID + "\x00" + normaliseReference(reference)))
	return sum[:]
}

// newLinkToken is the link's secret: 32 random bytes, base64url.
func newLinkToken() (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, tokenHash(token)
}

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// ValidLinkToken reports whether s looks like a link's token (43
// characters of base64url), so nothing else reaches the database.
func ValidLinkToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// PartnerLinkPath is the address of a link's page, under BASE_URL.
func PartnerLinkPath(token string) string { return "/partner/" + token }

// The officer's side.

// stepOfCase reads a case (open) and one of its steps as last saved.
func (s *Service) stepOfCase(ctx context.Context, caseID, stepID string) (postgres.CaseRecord, resettlement.Step, error) {
	rec, err := s.openCaseRecord(ctx, caseID)
	if err != nil {
		return rec, resettlement.Step{}, err
	}
	if rec.State != nil {
		for _, st := range rec.State.Steps {
			if st.ID == stepID {
				return rec, st, nil
			}
		}
	}
	return rec, resettlement.Step{}, Errorf(NotFound, "The case has no such step.")
}

// linkPurpose is the consent a link to a step is sent under when the
// officer names none.
func linkPurpose(stepID, partner string) string {
	switch stepID {
	case resettlement.StepHousingReferral:
		return PurposeHousingReferral
	case resettlement.StepGPRegistration:
		return PurposeGPSharing
	}
	return PurposePartner + partner
}

// check checks what an officer typed, naming each field at fault.
func (r *SendPartnerLink) check() error {
	var errs resettlement.Errors
	name, ok := partnerName(r.PartnerName)
	if !ok {
		errs.Add("partner_name", "is required: the partner's name, such as Islington housing options (up to 100 characters of plain text)")
	}
	r.PartnerName = name
	r.PartnerEmail = strings.TrimSpace(r.PartnerEmail)
	if a, err := mail.ParseAddress(r.PartnerEmail); err != nil || a.Address != r.PartnerEmail || a.Name != "" ||
		len(r.PartnerEmail) > 254 || strings.ContainsAny(r.PartnerEmail, "\r\n<>") {
		errs.Add("partner_email", "must be an email address, such as housing.options@islington.gov.uk")
	}
	r.Ask = strings.TrimSpace(r.Ask)
	if r.Ask == "" || utf8.RuneCountInString(r.Ask) > 1000 || strings.ContainsRune(r.Ask, 0) {
		errs.Add("ask", "is required: what you ask the partner, in up to 1000 characters")
	}
	if r.Purpose != "" {
		p, ok := NormalisePurpose(r.Purpose)
		switch {
		case !ok:
			errs.Add("purpose", purposeHelp)
		case strings.HasPrefix(p, PurposePartner) && ok && !strings.EqualFold(p, PurposePartner+r.PartnerName):
			errs.Add("purpose", "names another partner: a link to "+r.PartnerName+" goes under consent to share with them (partner:"+r.PartnerName+"), housing-referral or gp-sharing")
		}
		r.Purpose = p
	}
	if len(errs) > 0 {
		return FieldsError(errs)
	}
	return nil
}

// SendPartnerLink sends a partner a one-time link to a step of a case
// that waits on them, for p, under the person's consent, audited. The
// answer holds the reference to tell the partner by phone, this once: a
// retried request (the same key) returns the link with no reference, and
// sends nothing again.
func (s *Service) SendPartnerLink(ctx context.Context, p *auth.Principal, caseID, key string, r SendPartnerLink) (SentPartnerLink, bool, error) {
	if err := s.access(ctx, p, caseID, "partner_link.create"); err != nil {
		return SentPartnerLink{}, false, err
	}
	if err := CheckKey(key); err != nil {
		return SentPartnerLink{}, false, err
	}
	if err := r.check(); err != nil {
		return SentPartnerLink{}, false, err
	}
	_, step, err := s.stepOfCase(ctx, caseID, r.StepID)
	if err != nil {
		return SentPartnerLink{}, false, err
	}
	if r.Purpose == "" {
		r.Purpose = linkPurpose(step.ID, r.PartnerName)
	}
	hash, err := requestHash("partner-link", caseID, r.StepID, r)
	if err != nil {
		return SentPartnerLink{}, false, err
	}
	k := postgres.IdempotencyKey{Staff: p.ID(), Route: "partner_link.create", CaseID: caseID, Key: key}
	if _, err := s.claimKey(ctx, k, hash); err != nil {
		return SentPartnerLink{}, false, err
	}
	out, created, err := s.sendPartnerLink(ctx, p, caseID, key, r, step)
	if err != nil && changedNothing(err) {
		_ = s.DB.ReleaseKey(context.WithoutCancel(ctx), k, hash)
	}
	detail := "step=" + r.StepID + " purpose=" + r.Purpose
	if out.Link.ID != "" {
		detail = "link=" + out.Link.ID + " " + detail + " expires=" + out.Link.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if !created && err == nil {
		detail += " retry"
	}
	if aerr := s.Audit(ctx, p, "partner_link.create", caseID, outcome(detail, err)); aerr != nil && err == nil {
		err = aerr
	}
	return out, created, err
}

func (s *Service) sendPartnerLink(ctx context.Context, p *auth.Principal, caseID, key string, r SendPartnerLink, step resettlement.Step) (SentPartnerLink, bool, error) {
	if step.Status != resettlement.StepWaiting {
		return SentPartnerLink{}, false, Errorf(Conflict, fmt.Sprintf("Not possible now: %q is %s. Send a partner a link from a step waiting on another agency: mark it waiting first, saying on whom.", step.Title, step.Status))
	}
	has, err := s.DB.HasConsent(ctx, caseID, r.Purpose)
	if err != nil {
		return SentPartnerLink{}, false, err
	}
	if !has {
		return SentPartnerLink{}, false, FieldsError(resettlement.Errors{{Field: "consent",
			Message: fmt.Sprintf("the person has not consented to this sharing (%s): record their consent before sending a partner a link", r.Purpose)}})
	}
	token, tokenSum := newLinkToken()
	id, ref := newCaseID(), newReference()
	l, created, err := s.DB.CreatePartnerLink(ctx, postgres.NewPartnerLink{ID: id, CaseID: caseID, StepID: step.ID, Purpose: r.Purpose,
		PartnerName: r.PartnerName, PartnerEmail: r.PartnerEmail, Ask: r.Ask, TokenHash: tokenSum, CodeHash: referenceHash(id, ref),
		CreatedBy: p.ID(), ExpiresAt: s.now().Add(s.partnerLinkLife()), RequestID: key})
	if err != nil {
		return SentPartnerLink{}, false, err
	}
	out := SentPartnerLink{Link: s.linkView(l)}
	if !created {
		return out, false, nil // its email went with the first request
	}
	out.Reference = ref
	team := p.Staff.Team
	if t, err := s.DB.Team(ctx, team); err == nil {
		team = t.Name
	}
	_, err = s.DB.EnqueueEmail(context.WithoutCancel(ctx), postgres.Email{CaseID: caseID, AlarmKey: "partner-link:" + l.ID,
		Recipient: l.PartnerEmail, RecipientID: resettlement.PartnerActor + l.ID, Kind: tgmail.KindPartnerLink, Template: tgmail.KindPartnerLink,
		Data: tgmail.PartnerLink{PartnerName: l.PartnerName, CaseRef: caseID, StepTitle: step.Title, From: p.Staff.Name, Team: team,
			LinkURL: s.BaseURL + PartnerLinkPath(token), Expires: l.ExpiresAt}})
	return out, true, err
}

// PartnerLinks lists the links sent for a step of a case, for p, audited.
func (s *Service) PartnerLinks(ctx context.Context, p *auth.Principal, caseID, stepID string) (PartnerLinkList, error) {
	if err := s.access(ctx, p, caseID, "partner_link.list"); err != nil {
		return PartnerLinkList{}, err
	}
	out, err := s.partnerLinks(ctx, caseID, stepID)
	if err != nil {
		return out, err
	}
	return out, s.Audit(ctx, p, "partner_link.list", caseID, "step="+stepID+" shown="+strconv.Itoa(len(out.Items)))
}

func (s *Service) partnerLinks(ctx context.Context, caseID, stepID string) (PartnerLinkList, error) {
	links, err := s.DB.PartnerLinks(ctx, caseID, stepID)
	if err != nil {
		return PartnerLinkList{}, err
	}
	out := PartnerLinkList{CaseID: caseID, StepID: stepID, Items: make([]PartnerLinkView, len(links))}
	for i, l := range links {
		out.Items[i] = s.linkView(l)
	}
	return out, nil
}

// RevokePartnerLink stops a link working, for p, audited. Revoking a link
// that no longer works changes nothing; an answered link is a conflict.
func (s *Service) RevokePartnerLink(ctx context.Context, p *auth.Principal, caseID, stepID, linkID, key string) (PartnerLinkView, error) {
	if err := s.access(ctx, p, caseID, "partner_link.revoke"); err != nil {
		return PartnerLinkView{}, err
	}
	if err := CheckKey(key); err != nil {
		return PartnerLinkView{}, err
	}
	l, err := s.DB.PartnerLink(ctx, caseID, linkID)
	if errors.Is(err, postgres.ErrNotFound) || err == nil && l.StepID != stepID {
		return PartnerLinkView{}, Errorf(NotFound, "The step has no such partner link.")
	}
	if err != nil {
		return PartnerLinkView{}, err
	}
	if l.AnsweredAt != nil {
		return s.linkView(l), Errorf(Conflict, "The partner has answered through this link already: there is nothing to revoke.")
	}
	revoked, err := s.DB.RevokePartnerLink(ctx, caseID, linkID, p.ID(), "revoked", s.now())
	if err != nil {
		return PartnerLinkView{}, err
	}
	if l, err = s.DB.PartnerLink(ctx, caseID, linkID); err != nil {
		return PartnerLinkView{}, err
	}
	detail := "link=" + linkID + " ok"
	if !revoked {
		detail = "link=" + linkID + " already " + linkState(l, s.now()) + " ok"
	}
	return s.linkView(l), s.Audit(ctx, p, "partner_link.revoke", caseID, detail)
}

// The partner's side: no sign-in, only the link's token (and, to see the
// person's name or answer, the reference).

// LinkClosedError says a link no longer works, and why (one of the link
// states other than LinkOpen): its page answers 410 Gone.
type LinkClosedError struct{ State string }

func (e *LinkClosedError) Error() string {
	switch e.State {
	case LinkAnswered:
		return "This link has been used: the answer was sent to the officer. Contact them if there is more to say."
	case LinkRevoked:
		return "This link was withdrawn by the officer who sent it. Contact them if you still need to answer."
	case LinkExpired:
		return "This link has expired. Ask the officer who sent it for a new one."
	case LinkLocked:
		return "This link is locked: the reference was entered wrongly too many times. Ask the officer who sent it for a new link."
	}
	return "This link no longer works."
}

var errUnknownLink = Errorf(NotFound, "This link is not valid. Check you copied the whole address from the email.")

// PartnerPage is what a partner's page shows: the case reference, the
// step's title and what is asked; the person's name only once the
// reference has been given.
type PartnerPage struct {
	LinkID      string
	PartnerName string
	CaseRef     string
	StepTitle   string
	Ask         string
	Expires     time.Time
	Attempts    int    // wrong references so far
	PersonName  string // "" until the reference is given
}

// partnerPrincipal is who a partner acts as: partner:<link id>, from where.
func partnerPrincipal(l postgres.PartnerLink, remote string) *auth.Principal {
	return &auth.Principal{Staff: postgres.Staff{ID: resettlement.PartnerActor + l.ID, Name: l.PartnerName, Active: true},
		Via: "partner-link", Remote: remote}
}

// partnerLink finds a link by its token and checks it still works; every
// lookup is audited as action (partner.view, partner.reference,
// partner.answer) with how it went, unless the caller audits success.
func (s *Service) partnerLink(ctx context.Context, token, remote, action string) (postgres.PartnerLink, error) {
	if !ValidLinkToken(token) {
		if err := s.AuditAs(ctx, "anonymous", remote, action, "", "unknown link refused 404"); err != nil {
			return postgres.PartnerLink{}, err
		}
		return postgres.PartnerLink{}, errUnknownLink
	}
	l, err := s.DB.PartnerLinkByToken(ctx, tokenHash(token))
	if errors.Is(err, postgres.ErrNotFound) {
		if err := s.AuditAs(ctx, "anonymous", remote, action, "", "unknown link refused 404"); err != nil {
			return l, err
		}
		return l, errUnknownLink
	}
	if err != nil {
		return l, err
	}
	if st := linkState(l, s.now()); st != LinkOpen {
		if err := s.AuditAs(ctx, resettlement.PartnerActor+l.ID, remote, action, l.CaseID, "link="+l.ID+" "+st+" refused 410"); err != nil {
			return l, err
		}
		return l, &LinkClosedError{State: st}
	}
	return l, nil
}

// partnerPage is what a link's page shows; a link whose case has closed
// (or lost the step) no longer works, refused and audited as action.
func (s *Service) partnerPage(ctx context.Context, l postgres.PartnerLink, remote, action string) (PartnerPage, error) {
	pg := PartnerPage{LinkID: l.ID, PartnerName: l.PartnerName, CaseRef: l.CaseID, Ask: l.Ask, Expires: l.ExpiresAt, Attempts: l.FailedAttempts}
	_, st, err := s.stepOfCase(ctx, l.CaseID, l.StepID)
	var e *Error
	if errors.As(err, &e) {
		if err := s.AuditAs(ctx, resettlement.PartnerActor+l.ID, remote, action, l.CaseID, "link="+l.ID+" case-closed refused 410"); err != nil {
			return pg, err
		}
		return pg, &LinkClosedError{State: LinkExpired}
	}
	pg.StepTitle = st.Title
	return pg, err
}

// PartnerView is a link's page before the reference: audited.
func (s *Service) PartnerView(ctx context.Context, token, remote string) (PartnerPage, error) {
	l, err := s.partnerLink(ctx, token, remote, "partner.view")
	if err != nil {
		return PartnerPage{}, err
	}
	pg, err := s.partnerPage(ctx, l, remote, "partner.view")
	if err != nil {
		return pg, err
	}
	return pg, s.AuditAs(ctx, resettlement.PartnerActor+l.ID, remote, "partner.view", l.CaseID, "link="+l.ID+" ok")
}

// checkReference checks the reference the partner typed, counting a wrong
// one against the link (and locking it at the fifth), audited.
func (s *Service) checkReference(ctx context.Context, l postgres.PartnerLink, remote, reference string) error {
	actor := resettlement.PartnerActor + l.ID
	if reference != "" && subtle.ConstantTimeCompare(referenceHash(l.ID, reference), l.CodeHash()) == 1 {
		return nil
	}
	attempts, locked, err := s.DB.FailReference(ctx, l.ID, s.now())
	if errors.Is(err, postgres.ErrNotFound) { // it stopped working meanwhile
		return &LinkClosedError{State: LinkLocked}
	}
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("link=%s wrong attempts=%d", l.ID, attempts)
	if locked {
		detail += " locked"
	}
	if err := s.AuditAs(ctx, actor, remote, "partner.reference", l.CaseID, detail+" refused 422"); err != nil {
		return err
	}
	if locked {
		return &LinkClosedError{State: LinkLocked}
	}
	left := postgres.MaxReferenceAttempts - attempts
	return FieldsError(resettlement.Errors{{Field: "reference", Message: fmt.Sprintf(
		"is not the reference the officer gave you: check it and try again (%d more %s before the link locks)", left, map[bool]string{true: "try", false: "tries"}[left == 1])}})
}

// PartnerReference checks the reference a partner gives and, when it is
// right, shows them the person's name: audited either way.
func (s *Service) PartnerReference(ctx context.Context, token, remote, reference string) (PartnerPage, error) {
	l, err := s.partnerLink(ctx, token, remote, "partner.reference")
	if err != nil {
		return PartnerPage{}, err
	}
	pg, err := s.partnerPage(ctx, l, remote, "partner.reference")
	if err != nil {
		return pg, err
	}
	if err := s.checkReference(ctx, l, remote, reference); err != nil {
		pg.Attempts++
		return pg, err
	}
	rec, err := s.DB.Case(ctx, l.CaseID)
	if err != nil {
		return pg, err
	}
	pg.PersonName = rec.Person.GivenName + " " + rec.Person.FamilyName
	return pg, s.AuditAs(ctx, resettlement.PartnerActor+l.ID, remote, "partner.reference", l.CaseID, "link="+l.ID+" ok")
}

// PartnerAnswer is a partner's answer: the step is done, or still waits
// on them (a note then says why).
type PartnerAnswer struct {
	Answer string // tgmail.PartnerAnswerDone or tgmail.PartnerAnswerWaiting
	Note   string
}

// PartnerAnswerStep takes a partner's answer through their link, once:
// the reference checked again, then an ActOnStep by partner:<link id> on
// the case (complete; or, for still waiting, a note — or waiting, if the
// officer moved the step on meanwhile), audited; the step's owner is
// emailed. A refusal by the case leaves the link to answer again.
func (s *Service) PartnerAnswerStep(ctx context.Context, token, remote, reference string, a PartnerAnswer) (PartnerPage, error) {
	l, err := s.partnerLink(ctx, token, remote, "partner.answer")
	if err != nil {
		return PartnerPage{}, err
	}
	pg, err := s.partnerPage(ctx, l, remote, "partner.answer")
	if err != nil {
		return pg, err
	}
	if err := s.checkReference(ctx, l, remote, reference); err != nil {
		return pg, err
	}
	rec, err := s.DB.Case(ctx, l.CaseID)
	if err != nil {
		return pg, err
	}
	pg.PersonName = rec.Person.GivenName + " " + rec.Person.FamilyName
	a.Note = strings.TrimSpace(a.Note)
	var errs resettlement.Errors
	switch a.Answer {
	case tgmail.PartnerAnswerDone:
	case tgmail.PartnerAnswerWaiting:
		if a.Note == "" {
			errs.Add("note", "is required when the step is still waiting: say what it waits for, and until when")
		}
	default:
		errs.Add("answer", "choose whether it is done or still waiting")
	}
	checkNote("note", a.Note, &errs)
	if len(errs) > 0 {
		return pg, FieldsError(errs)
	}
	cmd := ActOnStep{StepID: l.StepID, Action: resettlement.ActionComplete, Note: a.Note}
	if a.Answer == tgmail.PartnerAnswerWaiting {
		cmd.Action = resettlement.ActionNote
		if _, st, err := s.stepOfCase(ctx, l.CaseID, l.StepID); err == nil && st.Status != resettlement.StepWaiting && st.Status.Open() {
			cmd.Action = resettlement.ActionWaiting
		}
	}
	claimed, err := s.DB.ClaimAnswer(ctx, l.ID, a.Answer, s.now())
	if err != nil {
		return pg, err
	}
	if !claimed {
		return pg, &LinkClosedError{State: LinkAnswered}
	}
	who := partnerPrincipal(l, remote)
	_, err = s.apply(ctx, who, l.CaseID, "answer", cmd, "partner ")
	if err != nil {
		if changedNothing(err) {
			if rerr := s.DB.ReleaseAnswer(context.WithoutCancel(ctx), l.ID); rerr != nil {
				return pg, rerr
			}
		}
		_ = s.AuditAs(ctx, who.ID(), remote, "partner.answer", l.CaseID, outcome("link="+l.ID+" answer="+a.Answer, err))
		return pg, err
	}
	if err := s.AuditAs(ctx, who.ID(), remote, "partner.answer", l.CaseID, "link="+l.ID+" answer="+a.Answer+" ok"); err != nil {
		return pg, err
	}
	return pg, s.notifyPartnerAnswered(ctx, l, pg.StepTitle, a.Answer)
}

// notifyPartnerAnswered emails the step's owner (or, when the step sits in
// a queue or its owner is away or gone, the team's queue address) that the
// partner answered. It is not held for a digest: the owner is waiting on
// it.
func (s *Service) notifyPartnerAnswered(ctx context.Context, l postgres.PartnerLink, stepTitle, answer string) error {
	rec, err := s.DB.Case(ctx, l.CaseID)
	if err != nil || rec.State == nil {
		return err
	}
	var st resettlement.Step
	for _, x := range rec.State.Steps {
		if x.ID == l.StepID {
			st = x
		}
	}
	if st.ID == "" {
		return nil
	}
	to, err := s.ownerOrQueue(ctx, st.Owner)
	if err != nil || to.email == "" {
		return err
	}
	_, err = s.DB.EnqueueEmail(context.WithoutCancel(ctx), postgres.Email{CaseID: l.CaseID, AlarmKey: "partner-answered:" + l.ID,
		Recipient: to.email, RecipientID: to.id, Kind: tgmail.KindPartnerAnswered, Template: tgmail.KindPartnerAnswered,
		Data: tgmail.PartnerAnswered{RecipientName: to.name, CaseRef: l.CaseID, StepTitle: stepTitle, PartnerName: l.PartnerName,
			Answer: answer, At: s.now(), CaseURL: s.BaseURL + "/cases/" + l.CaseID}})
	return err
}

// addressee is someone an email of the service goes to.
type addressee struct{ id, name, email string }

// ownerOrQueue is a step's owner, or the team's queue address when the
// step is unassigned or its owner is away or gone (as reminders go), or
// the team's manager when the team has no queue address.
func (s *Service) ownerOrQueue(ctx context.Context, o resettlement.Owner) (addressee, error) {
	if o.Staff != "" {
		st, err := s.DB.StaffMember(ctx, o.Staff)
		if err != nil && !errors.Is(err, postgres.ErrNotFound) {
			return addressee{}, err
		}
		away := st.AwayUntil != nil && !s.now().After(*st.AwayUntil)
		if err == nil && st.Active && !away && st.Email != "" {
			return addressee{id: st.ID, name: st.Name, email: st.Email}, nil
		}
	}
	t, err := s.DB.Team(ctx, o.Team)
	if errors.Is(err, postgres.ErrNotFound) {
		return addressee{}, nil
	}
	if err != nil {
		return addressee{}, err
	}
	if t.Email != "" {
		return addressee{id: t.ID, name: t.Name, email: t.Email}, nil
	}
	for _, id := range []string{t.Manager, t.Head} {
		if id == "" {
			continue
		}
		if m, err := s.DB.StaffMember(ctx, id); err == nil && m.Active && m.Email != "" {
			return addressee{id: m.ID, name: m.Name, email: m.Email}, nil
		}
	}
	return addressee{}, nil
}

// partnerNames names the partners among actor ids ("partner:<link id>"),
// for the case's history: "Islington housing options (partner)".
func (s *Service) partnerNames(ctx context.Context, names map[string]string) error {
	for id := range names {
		link, ok := strings.CutPrefix(id, resettlement.PartnerActor)
		if !ok {
			continue
		}
		name, err := s.DB.PartnerLinkName(ctx, link)
		if errors.Is(err, postgres.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		names[id] = name + " (partner)"
	}
	return nil
}

// PartnerStep is a step of a case for the page that sends and lists its
// partner links, for p: the step as last saved, the purpose a link to it
// goes under by default, and whether the case still takes changes. The
// page's list of links is audited (PartnerLinks); this reads no more than
// the case page shows.
func (s *Service) PartnerStep(ctx context.Context, p *auth.Principal, caseID, stepID string) (resettlement.Step, error) {
	if err := s.access(ctx, p, caseID, "partner_link.list"); err != nil {
		return resettlement.Step{}, err
	}
	_, st, err := s.stepOfCase(ctx, caseID, stepID)
	return st, err
}

// DefaultLinkPurpose is the consent a link to a step goes under when the
// officer names none: the step's own, else partner:<partner>.
func DefaultLinkPurpose(stepID, partner string) string { return linkPurpose(stepID, partner) }
