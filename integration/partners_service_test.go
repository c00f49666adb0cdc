package integration

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/devstack"
	tgmail "github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Issue 13's consent, partner links and assignment emails, through the
// application service (casework.Service) on the real dev stack: every
// change to a case goes to its ReleaseCase workflow on the Temporal
// server, which saves it to PostgreSQL, and the emails go through the
// outbox to the development SMTP server. The service is the stack's own,
// copied so that each subtest sets its clock and partner-link lifetime.
// The subtests share one stack, so each opens its own cases, for its own
// prison numbers.

const partnerAddress = "housing.options@islington.example.org"

// Where the dev stack's staff are emailed (devstack.SeedDemo, addPentonvilleHousing).
const (
	oluAddress = "olu.officer@pvi.example.org" // officer-1
	olaAddress = "ola.officer@pvi.example.org" // officer-3
)

// serviceFixture is the stack's service with a clock of its own.
type serviceFixture struct {
	t   *testing.T
	d   *devstack.Dev
	s   *casework.Service
	ctx context.Context
	now time.Time
}

func newServiceFixture(t *testing.T, d *devstack.Dev) *serviceFixture {
	s := *d.Cases
	f := &serviceFixture{t: t, d: d, s: &s, ctx: context.Background(), now: time.Now().UTC().Truncate(time.Second)}
	s.Now = func() time.Time { return f.now }
	return f
}

// as is the principal of a member of staff, as auth.Authenticator makes it.
func (f *serviceFixture) as(id string) *auth.Principal {
	f.t.Helper()
	st, err := f.d.DB.StaffMember(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	reach, err := f.d.DB.StaffReach(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return &auth.Principal{Staff: st, Reach: reach, Via: "token", Remote: "192.0.2.1"}
}

// openCase opens a case at PVI for Sam Example, born 17 May 1990, with no
// owner, through its workflow, and waits for the workflow's first save.
func (f *serviceFixture) openCase(prisonNumber string) string {
	f.t.Helper()
	today := resettlement.DateOf(f.now)
	id, created, err := f.s.Open(f.ctx, casework.OpenRequest{
		Person: postgres.Person{PrisonNumber: prisonNumber, Booking: "1", GivenName: "Sam", FamilyName: "Example",
			DateOfBirth: resettlement.D(1990, 5, 17)},
		Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: today.AddDays(-30),
		Dates:    resettlement.ReleaseDates{CRD: today.AddDays(120)},
		OpenedBy: "officer-1", RequestID: "open-" + prisonNumber,
	})
	if err != nil || !created {
		f.t.Fatalf("open: %v (created %v)", err, created)
	}
	waitFor(f.t, "case "+id+" saved by its workflow", 30*time.Second, func() bool {
		rec, err := f.d.DB.Case(f.ctx, id)
		return err == nil && rec.State != nil && len(rec.State.Steps) > 0
	})
	return id
}

// stepOf is a step of a case as last saved.
func (f *serviceFixture) stepOf(caseID, stepID string) resettlement.Step {
	f.t.Helper()
	rec, err := f.d.DB.Case(f.ctx, caseID)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, st := range rec.State.Steps {
		if st.ID == stepID {
			return st
		}
	}
	f.t.Fatalf("case %s has no step %s", caseID, stepID)
	return resettlement.Step{}
}

// emails lists the outbox rows of a case for a recipient.
func (f *serviceFixture) emails(caseID, recipient string) []postgres.OutboxRow {
	f.t.Helper()
	rows, err := f.d.DB.CaseEmails(f.ctx, caseID)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []postgres.OutboxRow
	for _, r := range rows {
		if r.Recipient == recipient {
			out = append(out, r)
		}
	}
	return out
}

// assignedTo lists the assignment emails of a case to a recipient.
func (f *serviceFixture) assignedTo(caseID, recipient string) []postgres.OutboxRow {
	f.t.Helper()
	var out []postgres.OutboxRow
	for _, r := range f.emails(caseID, recipient) {
		if r.Kind == tgmail.KindAssigned {
			out = append(out, r)
		}
	}
	return out
}

// auditLines lists the audit lines of an action on a case (the filter's
// action is a prefix).
func (f *serviceFixture) auditLines(action, caseID string) []postgres.AuditEntry {
	f.t.Helper()
	entries, err := f.d.DB.AuditLog(f.ctx, postgres.AuditFilter{Action: action, CaseID: caseID, Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	return entries
}

// actOK does something to a case that must succeed.
func (f *serviceFixture) actOK(p string, caseID, key string, c casework.Command) {
	f.t.Helper()
	if _, err := f.s.Act(f.ctx, f.as(p), caseID, key, c); err != nil {
		f.t.Fatalf("%s: %T on %s: %v", p, c, caseID, err)
	}
}

// waitingCase opens a case at PVI whose housing referral waits on the
// council, owned by officer-1.
func (f *serviceFixture) waitingCase(prisonNumber string) string {
	f.t.Helper()
	id := f.openCase(prisonNumber)
	f.actOK("manager-1", id, "own-"+id, casework.Assign{StepID: resettlement.StepHousingReferral, Owner: resettlement.Owner{Staff: "officer-1", Team: "pvi-resettlement"}})
	f.actOK("officer-1", id, "wait-"+id, casework.ActOnStep{StepID: resettlement.StepHousingReferral, Action: resettlement.ActionWaiting,
		Note: "Referred to Islington; waiting for their decision."})
	return id
}

// consent records the person's consent to a purpose.
func (f *serviceFixture) consent(caseID, purpose, key string) postgres.Consent {
	f.t.Helper()
	c, _, err := f.s.RecordConsent(f.ctx, f.as("officer-1"), caseID, key, casework.RecordConsent{Purpose: purpose})
	if err != nil {
		f.t.Fatalf("consent %s: %v", purpose, err)
	}
	return c
}

// sendLink sends Islington's housing options a link to the case's housing
// referral, returning what the officer is told and the link's token (from
// the email).
func (f *serviceFixture) sendLink(caseID, key string) (casework.SentPartnerLink, string) {
	f.t.Helper()
	sent, created, err := f.s.SendPartnerLink(f.ctx, f.as("officer-1"), caseID, key, casework.SendPartnerLink{StepID: resettlement.StepHousingReferral,
		PartnerName: "Islington housing options", PartnerEmail: partnerAddress, Ask: "Has Sam Example's referral been accepted, and when can they be seen?"})
	if err != nil || !created {
		f.t.Fatalf("send a link: %v (created %v)", err, created)
	}
	var token string
	for _, r := range f.emails(caseID, partnerAddress) {
		if r.AlarmKey == "partner-link:"+sent.Link.ID {
			var p tgmail.PartnerLink
			if err := json.Unmarshal(r.Data, &p); err != nil {
				f.t.Fatal(err)
			}
			u, err := url.Parse(p.LinkURL)
			if err != nil {
				f.t.Fatal(err)
			}
			token = strings.TrimPrefix(u.Path, "/partner/")
		}
	}
	if !casework.ValidLinkToken(token) {
		f.t.Fatalf("no link in the partner's email (token %q)", token)
	}
	return sent, token
}

// wantFieldError checks err is a casework Error of a kind naming field.
func wantFieldError(t *testing.T, err error, kind casework.Kind, field string) *casework.Error {
	t.Helper()
	e, ok := casework.ErrorOf(err)
	if !ok {
		t.Fatalf("want an error of kind %d naming %s, got %v", kind, field, err)
	}
	if e.Kind != kind {
		t.Fatalf("want an error of kind %d naming %s, got kind %d (%d): %v %+v", kind, field, e.Kind, casework.Status(err), e, e.Fields)
	}
	for _, fe := range e.Fields {
		if fe.Field == field {
			return e
		}
	}
	t.Fatalf("want an error of kind %d naming %s, got fields %+v", kind, field, e.Fields)
	return nil
}

// noPersonalData checks an email's data carries nothing that identifies
// the person.
func noPersonalData(t *testing.T, what, prisonNumber string, data []byte) {
	t.Helper()
	for _, pd := range []string{"Sam", "Example", prisonNumber, "1990", "17 May", "Has Sam"} {
		if strings.Contains(string(data), pd) {
			t.Errorf("%s carries %q: %s", what, pd, data)
		}
	}
}

func staffOwner(staff string) resettlement.Owner {
	return resettlement.Owner{Staff: staff, Team: "pvi-resettlement"}
}

func TestPartnersConsentAndAssignmentThroughTheService(t *testing.T) {
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data")))
	defer d.Stop()
	addPentonvilleHousing(t, d)

	t.Run("PartnerLinkNeedsConsentAndAWaitingStep", func(t *testing.T) {
		f := newServiceFixture(t, d)
		id := f.waitingCase("L1111AA")
		send := func(step, key string) error {
			_, _, err := f.s.SendPartnerLink(f.ctx, f.as("officer-1"), id, key, casework.SendPartnerLink{StepID: step,
				PartnerName: "Islington housing options", PartnerEmail: partnerAddress, Ask: "Accepted?"})
			return err
		}
		wantFieldError(t, send(resettlement.StepHousingReferral, "l1"), casework.Invalid, "consent")
		f.consent(id, casework.PurposeHousingReferral, "c1")
		// Only from a step that waits on another agency.
		if err := send(resettlement.StepBenefits, "l2"); casework.Status(err) != 409 {
			t.Errorf("a link from a step not waiting: %v", err)
		}
		if err := send("no-such-step", "l3"); casework.Status(err) != 404 {
			t.Errorf("a link from no step: %v", err)
		}
		// What the officer types is checked, each field named.
		_, _, err := f.s.SendPartnerLink(f.ctx, f.as("officer-1"), id, "l4", casework.SendPartnerLink{StepID: resettlement.StepHousingReferral,
			PartnerName: " ", PartnerEmail: "Islington <x@example.org>", Ask: ""})
		e := wantFieldError(t, err, casework.Invalid, "partner_name")
		if len(e.Fields) != 3 {
			t.Errorf("fields %+v", e.Fields)
		}
		// A named partner's consent is theirs only.
		_, _, err = f.s.SendPartnerLink(f.ctx, f.as("officer-1"), id, "l5", casework.SendPartnerLink{StepID: resettlement.StepHousingReferral,
			PartnerName: "Islington housing options", PartnerEmail: partnerAddress, Ask: "x", Purpose: "partner:Camden"})
		wantFieldError(t, err, casework.Invalid, "purpose")
		// Someone who cannot see the case learns nothing.
		if _, _, err := f.s.SendPartnerLink(f.ctx, f.as("officer-2"), id, "l6", casework.SendPartnerLink{StepID: resettlement.StepHousingReferral,
			PartnerName: "x", PartnerEmail: partnerAddress, Ask: "x"}); casework.Status(err) != 404 {
			t.Errorf("another prison's officer: %v", err)
		}
		if err := send(resettlement.StepHousingReferral, "l7"); err != nil {
			t.Errorf("with consent and a waiting step: %v", err)
		}
	})

	t.Run("PartnerLinkWorksOnceWithTheReference", func(t *testing.T) {
		f := newServiceFixture(t, d)
		id := f.waitingCase("L2222AA")
		f.consent(id, casework.PurposeHousingReferral, "c1")
		sent, token := f.sendLink(id, "l1")
		if len(sent.Reference) != 9 || sent.Link.State != casework.LinkOpen || !sent.Link.ExpiresAt.Equal(f.now.Add(14*24*time.Hour)) {
			t.Fatalf("sent %+v", sent)
		}
		// The email names the case, the step and who asks; no personal data,
		// not what was asked, not the reference.
		mails := f.emails(id, partnerAddress)
		if len(mails) != 1 || mails[0].Kind != tgmail.KindPartnerLink {
			t.Fatalf("partner emails %+v", mails)
		}
		noPersonalData(t, "the partner's email", "L2222AA", mails[0].Data)
		if strings.Contains(string(mails[0].Data), sent.Reference) || strings.Contains(string(mails[0].Data), "accepted") {
			t.Errorf("the email carries the reference or the ask: %s", mails[0].Data)
		}
		// A retry sends nothing more and shows no reference.
		again, created, err := f.s.SendPartnerLink(f.ctx, f.as("officer-1"), id, "l1", casework.SendPartnerLink{StepID: resettlement.StepHousingReferral,
			PartnerName: "Islington housing options", PartnerEmail: partnerAddress, Ask: "Has Sam Example's referral been accepted, and when can they be seen?"})
		if err != nil || created || again.Reference != "" || again.Link.ID != sent.Link.ID || len(f.emails(id, partnerAddress)) != 1 {
			t.Fatalf("retry: %+v %v %v", again, created, err)
		}

		// The page: the case reference, the step, what is asked; no name yet.
		pg, err := f.s.PartnerView(f.ctx, token, "198.51.100.7")
		if err != nil || pg.CaseRef != id || pg.StepTitle != "Housing: duty to refer" || !strings.Contains(pg.Ask, "accepted") || pg.PersonName != "" {
			t.Fatalf("view %+v %v", pg, err)
		}
		if _, err := f.s.PartnerView(f.ctx, strings.Repeat("A", 43), "198.51.100.7"); casework.Status(err) != 404 {
			t.Errorf("an unknown token: %v", err)
		}
		// A wrong reference is counted; the right one shows the person's name.
		if _, err := f.s.PartnerReference(f.ctx, token, "198.51.100.7", "AAAA-AAAA"); err == nil {
			t.Fatal("a wrong reference was taken")
		} else {
			wantFieldError(t, err, casework.Invalid, "reference")
		}
		pg, err = f.s.PartnerReference(f.ctx, token, "198.51.100.7", strings.ToLower(strings.ReplaceAll(sent.Reference, "-", " ")))
		if err != nil || pg.PersonName != "Sam Example" {
			t.Fatalf("the right reference, as typed loosely: %+v %v", pg, err)
		}
		// The answer needs the reference again; "still waiting" needs a note.
		_, err = f.s.PartnerAnswerStep(f.ctx, token, "198.51.100.7", "", casework.PartnerAnswer{Answer: tgmail.PartnerAnswerDone})
		wantFieldError(t, err, casework.Invalid, "reference")
		_, err = f.s.PartnerAnswerStep(f.ctx, token, "198.51.100.7", sent.Reference, casework.PartnerAnswer{Answer: tgmail.PartnerAnswerWaiting})
		wantFieldError(t, err, casework.Invalid, "note")
		_, err = f.s.PartnerAnswerStep(f.ctx, token, "198.51.100.7", sent.Reference, casework.PartnerAnswer{Answer: tgmail.PartnerAnswerDone,
			Note: "Accepted: prevention duty owed, first appointment booked."})
		if err != nil {
			t.Fatalf("answer: %v", err)
		}
		if st := f.stepOf(id, resettlement.StepHousingReferral); st.Status != resettlement.StepDone {
			t.Errorf("the step is %s after the partner's answer", st.Status)
		}
		// Through the service, as partner:<link id>, audited; the note kept as notes are.
		actor := resettlement.PartnerActor + sent.Link.ID
		acts := f.auditLines("case.ActOnStep", id)
		if len(acts) == 0 || acts[0].Actor != actor || !strings.Contains(acts[0].Detail, "action=complete ok") || acts[0].Remote != "198.51.100.7" {
			t.Errorf("the answer's audit line: %+v", acts)
		}
		if n := sqlInt(t, d, `select count(*) from notes where case_id = $1 and author = $2 and body like 'Accepted:%'`, id, actor); n != 1 {
			t.Errorf("%d notes by the partner", n)
		}
		names, err := f.s.StaffNames(f.ctx, []string{actor})
		if err != nil || names[actor] != "Islington housing options (partner)" {
			t.Errorf("the history names the partner %q (%v)", names[actor], err)
		}
		// The owner is told, with no personal data.
		told := f.emails(id, oluAddress)
		var answered []postgres.OutboxRow
		for _, r := range told {
			if r.Kind == tgmail.KindPartnerAnswered {
				answered = append(answered, r)
			}
		}
		if len(answered) != 1 {
			t.Fatalf("the owner's emails %+v", told)
		}
		noPersonalData(t, "the owner's email", "L2222AA", answered[0].Data)
		// Once only.
		_, err = f.s.PartnerAnswerStep(f.ctx, token, "198.51.100.7", sent.Reference, casework.PartnerAnswer{Answer: tgmail.PartnerAnswerDone})
		var closed *casework.LinkClosedError
		if !errors.As(err, &closed) || closed.State != casework.LinkAnswered {
			t.Errorf("a second answer: %v", err)
		}
		if _, err := f.s.PartnerView(f.ctx, token, "198.51.100.7"); !errors.As(err, &closed) {
			t.Errorf("the page after the answer: %v", err)
		}
		// Every use is audited: views, references, the answer.
		for action, want := range map[string]int{"partner.view": 2, "partner.reference": 2, "partner.answer": 2} {
			if got := len(f.auditLines(action, id)); got < want {
				t.Errorf("%d %s audit lines, want at least %d", got, action, want)
			}
		}
		links, err := f.s.PartnerLinks(f.ctx, f.as("officer-1"), id, resettlement.StepHousingReferral)
		if err != nil || len(links.Items) != 1 || links.Items[0].State != casework.LinkAnswered || links.Items[0].Answer != tgmail.PartnerAnswerDone {
			t.Errorf("links %+v %v", links, err)
		}
	})

	t.Run("PartnerStillWaitingAddsANote", func(t *testing.T) {
		f := newServiceFixture(t, d)
		id := f.waitingCase("L3333AA")
		f.consent(id, casework.PurposeHousingReferral, "c1")
		sent, token := f.sendLink(id, "l1")
		if _, err := f.s.PartnerAnswerStep(f.ctx, token, "198.51.100.7", sent.Reference, casework.PartnerAnswer{Answer: tgmail.PartnerAnswerWaiting,
			Note: "Assessment booked for the 20th; decision after."}); err != nil {
			t.Fatal(err)
		}
		if st := f.stepOf(id, resettlement.StepHousingReferral); st.Status != resettlement.StepWaiting {
			t.Errorf("the step is %s", st.Status)
		}
		if acts := f.auditLines("case.ActOnStep", id); !strings.Contains(acts[0].Detail, "action=note ok") {
			t.Errorf("audit %+v", acts[0])
		}
	})

	t.Run("PartnerLinkLocksRevokesAndExpires", func(t *testing.T) {
		f := newServiceFixture(t, d)
		id := f.waitingCase("L4444AA")
		c := f.consent(id, casework.PurposeHousingReferral, "c1")
		var closed *casework.LinkClosedError

		// Five wrong references lock the link.
		_, token := f.sendLink(id, "l1")
		for i := 1; i <= postgres.MaxReferenceAttempts; i++ {
			_, err := f.s.PartnerReference(f.ctx, token, "203.0.113.9", "WRNG-0000")
			if i < postgres.MaxReferenceAttempts {
				wantFieldError(t, err, casework.Invalid, "reference")
			} else if !errors.As(err, &closed) || closed.State != casework.LinkLocked {
				t.Fatalf("the fifth wrong reference: %v", err)
			}
		}
		if _, err := f.s.PartnerView(f.ctx, token, "203.0.113.9"); !errors.As(err, &closed) || closed.State != casework.LinkLocked {
			t.Errorf("a locked link's page: %v", err)
		}

		// Revoked by the officer.
		sent, token := f.sendLink(id, "l2")
		if v, err := f.s.RevokePartnerLink(f.ctx, f.as("manager-1"), id, resettlement.StepHousingReferral, sent.Link.ID, "r1"); err != nil || v.State != casework.LinkRevoked {
			t.Fatalf("revoke: %+v %v", v, err)
		}
		if _, err := f.s.PartnerView(f.ctx, token, "203.0.113.9"); !errors.As(err, &closed) || closed.State != casework.LinkRevoked {
			t.Errorf("a revoked link's page: %v", err)
		}
		if _, err := f.s.RevokePartnerLink(f.ctx, f.as("officer-1"), id, resettlement.StepBenefits, sent.Link.ID, "r2"); casework.Status(err) != 404 {
			t.Errorf("revoking through another step: %v", err)
		}

		// Withdrawn consent revokes the open links sent under it, and the
		// housing referral can no longer be completed.
		sent, token = f.sendLink(id, "l3")
		w, err := f.s.WithdrawConsent(f.ctx, f.as("officer-1"), id, "w1", c.ID, casework.WithdrawConsent{})
		if err != nil || len(w.Revoked) != 1 || w.Revoked[0] != sent.Link.ID {
			t.Fatalf("withdraw: %+v %v", w, err)
		}
		if _, err := f.s.PartnerView(f.ctx, token, "203.0.113.9"); !errors.As(err, &closed) || closed.State != casework.LinkRevoked {
			t.Errorf("a link after its consent was withdrawn: %v", err)
		}
		if lines := f.auditLines("partner_link.revoke", id); len(lines) != 2 {
			t.Errorf("revocations audited: %+v", lines)
		}
		_, err = f.s.Act(f.ctx, f.as("officer-1"), id, "done1", casework.ActOnStep{StepID: resettlement.StepHousingReferral, Action: resettlement.ActionComplete})
		wantFieldError(t, err, casework.Invalid, "consent")

		// Expired after PARTNER_LINK_DAYS.
		f.consent(id, casework.PurposeHousingReferral, "c2")
		f.s.PartnerLinkDays = 2
		_, token = f.sendLink(id, "l4")
		f.now = f.now.Add(49 * time.Hour)
		if _, err := f.s.PartnerView(f.ctx, token, "203.0.113.9"); !errors.As(err, &closed) || closed.State != casework.LinkExpired {
			t.Errorf("an expired link's page: %v", err)
		}
	})

	t.Run("HousingReferralNeedsConsent", func(t *testing.T) {
		f := newServiceFixture(t, d)
		id := f.openCase("L5555AA")
		complete := casework.ActOnStep{StepID: resettlement.StepHousingReferral, Action: resettlement.ActionComplete}
		_, err := f.s.Act(f.ctx, f.as("officer-1"), id, "k1", complete)
		wantFieldError(t, err, casework.Invalid, "consent")
		if st := f.stepOf(id, resettlement.StepHousingReferral); st.Status != resettlement.StepNotStarted {
			t.Errorf("a refused completion changed the step: %s", st.Status)
		}
		if lines := f.auditLines("case.ActOnStep", id); len(lines) != 1 || !strings.Contains(lines[0].Detail, "refused 422") {
			t.Errorf("the refusal's audit: %+v", lines)
		}
		// Other steps and actions need none.
		f.actOK("officer-1", id, "k2", casework.ActOnStep{StepID: resettlement.StepHousingReferral, Action: resettlement.ActionStart})
		f.actOK("officer-1", id, "k3", casework.ActOnStep{StepID: resettlement.StepImmediateNeeds, Action: resettlement.ActionComplete})
		// Consent to another purpose is not enough; the duty to refer's is.
		f.consent(id, casework.PurposeGPSharing, "c1")
		_, err = f.s.Act(f.ctx, f.as("officer-1"), id, "k4", complete)
		wantFieldError(t, err, casework.Invalid, "consent")
		f.consent(id, casework.PurposeHousingReferral, "c2")
		f.actOK("officer-1", id, "k4", complete) // the key freed by the refusal
		if st := f.stepOf(id, resettlement.StepHousingReferral); st.Status != resettlement.StepDone {
			t.Errorf("the step is %s", st.Status)
		}
	})

	t.Run("AssigningAStepEmailsTheNewOwnerOnce", func(t *testing.T) {
		f := newServiceFixture(t, d)
		id := f.openCase("M1111AA")
		f.actOK("manager-1", id, "a1", casework.Assign{StepID: resettlement.StepBenefits, Owner: staffOwner("officer-3")})
		got := f.assignedTo(id, olaAddress)
		// Queued to go at once (the stack's sender may have sent it
		// already), not held for a digest; and it reaches the SMTP server.
		if len(got) != 1 || !slices.Contains([]string{"pending", "sending", "sent"}, got[0].State) || got[0].Template != tgmail.KindAssigned {
			t.Fatalf("the new owner's emails: %+v", got)
		}
		mailTo(t, d.SMTP, olaAddress, "Assigned to you")
		var a tgmail.Assigned
		if err := json.Unmarshal(got[0].Data, &a); err != nil {
			t.Fatal(err)
		}
		if a.StepTitle != f.stepOf(id, resettlement.StepBenefits).Title || a.By != "Mo Manager" || a.CaseRef != id ||
			a.CaseURL != d.Config.BaseURL+"/cases/"+id || a.Due.IsZero() || a.RecipientName != "Ola Officer" {
			t.Errorf("the email says %+v", a)
		}
		noPersonalData(t, "the assignment email", "M1111AA", got[0].Data)
		if _, _, _, err := tgmail.RenderAssigned(a); err != nil {
			t.Errorf("it does not render: %v", err)
		}

		// A retry of the same request raises nothing more.
		f.actOK("manager-1", id, "a1", casework.Assign{StepID: resettlement.StepBenefits, Owner: staffOwner("officer-3")})
		if got := f.assignedTo(id, olaAddress); len(got) != 1 {
			t.Errorf("a retry emailed again: %d", len(got))
		}

		// Reassigned: the new owner is told, the previous owner nothing more.
		f.actOK("manager-1", id, "a2", casework.Assign{StepID: resettlement.StepBenefits, Owner: staffOwner("officer-1")})
		if got := f.assignedTo(id, oluAddress); len(got) != 1 {
			t.Errorf("the new owner got %d emails", len(got))
		}
		if got := f.assignedTo(id, olaAddress); len(got) != 1 {
			t.Errorf("the previous owner got %d emails, want only the one from when it was theirs", len(got))
		}
		// Back to the first owner: a new assignment, a new email.
		f.actOK("manager-1", id, "a3", casework.Assign{StepID: resettlement.StepBenefits, Owner: staffOwner("officer-3")})
		if got := f.assignedTo(id, olaAddress); len(got) != 2 {
			t.Errorf("a second assignment to the same person: %d emails", len(got))
		}
		// To a team queue, or to oneself: no email.
		f.actOK("manager-1", id, "a4", casework.Assign{StepID: resettlement.StepBenefits, Owner: staffOwner("")})
		f.actOK("officer-1", id, "a5", casework.Assign{StepID: resettlement.StepBenefits, Owner: staffOwner("officer-1")})
		if got := f.assignedTo(id, oluAddress); len(got) != 1 {
			t.Errorf("taking a step oneself emailed: %d", len(got))
		}
		if got := f.assignedTo(id, "resettlement@pvi.example.org"); len(got) != 0 {
			t.Errorf("the queue got an assignment email: %+v", got)
		}
		// A refused assignment emails nobody.
		if _, err := f.s.Act(f.ctx, f.as("manager-1"), id, "a6", casework.Assign{StepID: resettlement.StepBenefits, Owner: staffOwner("officer-1")}); casework.Status(err) != 409 {
			t.Fatalf("assigning to the owner it has: %v", err)
		}
		if got := f.assignedTo(id, oluAddress); len(got) != 1 {
			t.Errorf("a refused assignment emailed: %d", len(got))
		}
	})

	t.Run("BulkAndCaseReassignmentEmailEachNewOwner", func(t *testing.T) {
		f := newServiceFixture(t, d)
		c3 := f.openCase("M3333AA")
		c4 := f.openCase("M4444AA")
		items := []casework.ReassignItem{
			{CaseID: c3, StepID: resettlement.StepBenefits, Owner: staffOwner("officer-3")},
			{CaseID: c3, StepID: resettlement.StepIDDocuments, Owner: staffOwner("officer-3")},
			{CaseID: c4, StepID: resettlement.StepBenefits, Owner: staffOwner("officer-1")},
		}
		out, err := f.s.Reassign(f.ctx, f.as("manager-1"), "bulk1", items)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			if o.Err != nil {
				t.Fatalf("%s/%s: %v", o.CaseID, o.StepID, o.Err)
			}
		}
		if got := f.assignedTo(c3, olaAddress); len(got) != 2 {
			t.Errorf("officer-3 got %d emails for two steps", len(got))
		}
		if got := f.assignedTo(c4, oluAddress); len(got) != 1 {
			t.Errorf("officer-1 got %d emails", len(got))
		}
		// The same request again changes nothing and sends nothing.
		if _, err := f.s.Reassign(f.ctx, f.as("manager-1"), "bulk1", items); err != nil {
			t.Fatal(err)
		}
		if got := f.assignedTo(c3, olaAddress); len(got) != 2 {
			t.Errorf("a retried bulk reassignment emailed again: %d", len(got))
		}

		// The whole case: one email, listing the open steps it brings.
		f.actOK("manager-1", c4, "c1", casework.Assign{Owner: staffOwner("officer-3")})
		got := f.assignedTo(c4, olaAddress)
		if len(got) != 1 {
			t.Fatalf("the case's new owner got %d emails", len(got))
		}
		var a tgmail.Assigned
		json.Unmarshal(got[0].Data, &a)
		if a.StepTitle != "" || !strings.HasPrefix(got[0].AlarmKey, "assigned:case:") {
			t.Errorf("the case's email: %+v (key %s)", a, got[0].AlarmKey)
		}
		subject, _, _, err := tgmail.RenderAssigned(a)
		if err != nil || subject != "Case "+c4+" assigned to you" {
			t.Errorf("subject %q %v", subject, err)
		}
	})

	// Last: it changes officer-1's and officer-3's choices (restored after).
	t.Run("AssignmentEmailsKeepTheOwnersChoices", func(t *testing.T) {
		f := newServiceFixture(t, d)
		id := f.openCase("M2222AA")
		// officer-3 turned assignment emails off; officer-1 takes a daily digest.
		if err := d.DB.SetMuted(f.ctx, "officer-3", []string{tgmail.KindAssigned}); err != nil {
			t.Fatal(err)
		}
		st, _ := d.DB.StaffMember(f.ctx, "officer-1")
		t.Cleanup(func() {
			_ = d.DB.SetMuted(context.Background(), "officer-3", nil)
			_ = d.DB.PutStaff(context.Background(), st)
		})
		digest := st
		digest.Notify = "digest"
		if err := d.DB.PutStaff(f.ctx, digest); err != nil {
			t.Fatal(err)
		}
		f.actOK("manager-1", id, "a1", casework.Assign{StepID: resettlement.StepBenefits, Owner: staffOwner("officer-3")})
		if got := f.assignedTo(id, olaAddress); len(got) != 0 {
			t.Errorf("a muted owner was emailed: %+v", got)
		}
		f.actOK("manager-1", id, "a2", casework.Assign{StepID: resettlement.StepGPRegistration, Owner: staffOwner("officer-1")})
		got := f.assignedTo(id, oluAddress)
		if len(got) != 1 || got[0].State != "digest" {
			t.Fatalf("a digest reader's assignment email: %+v", got)
		}
		held, err := d.DB.HeldEmails(f.ctx, oluAddress, tgmail.KindAssigned)
		if err != nil || len(held) != 1 {
			t.Fatalf("held for the digest: %+v %v", held, err)
		}
		var a tgmail.Assigned
		json.Unmarshal(held[0].Data, &a)
		subject, text, _, err := tgmail.RenderDigestOf(tgmail.Digest{RecipientName: "Olu Officer", Day: f.now, Assigned: []tgmail.Assigned{a}})
		if err != nil || !strings.Contains(subject, "1 assigned to you") || !strings.Contains(text, "GP registration") {
			t.Errorf("the digest lists it: %q %v\n%s", subject, err, text)
		}
	})
}
