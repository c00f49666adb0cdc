package casework

import (
	"encoding/json"
	"strings"
	"testing"

	tgmail "github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

const (
	olu = "olu@pvi.example.org" // officer-1
	ola = "ola@pvi.example.org" // officer-3
)

// assignedTo lists the assignment emails of a case to a recipient.
func (f *fixture) assignedTo(caseID, recipient string) []postgres.OutboxRow {
	f.t.Helper()
	var out []postgres.OutboxRow
	for _, r := range f.emails(caseID, recipient) {
		if r.Kind == tgmail.KindAssigned {
			out = append(out, r)
		}
	}
	return out
}

func owner(staff string) resettlement.Owner {
	return resettlement.Owner{Staff: staff, Team: "pvi-resettlement"}
}

func TestAssigningAStepEmailsTheNewOwnerOnce(t *testing.T) {
	f := newFixture(t)
	f.withEngine()
	f.s.BaseURL = "https://throughgate.example.org"
	f.readModelCase("assigncase1", openReq("A1111AA"))
	f.actOK("manager-1", "assigncase1", "a1", Assign{StepID: resettlement.StepBenefits, Owner: owner("officer-3")})
	got := f.assignedTo("assigncase1", ola)
	if len(got) != 1 || got[0].State != "pending" || got[0].Template != tgmail.KindAssigned {
		t.Fatalf("the new owner's emails: %+v", got)
	}
	var a tgmail.Assigned
	if err := json.Unmarshal(got[0].Data, &a); err != nil {
		t.Fatal(err)
	}
	if a.StepTitle != f.stepOf("assigncase1", resettlement.StepBenefits).Title || a.By != "Mo Manager" || a.CaseRef != "assigncase1" ||
		a.CaseURL != "https://throughgate.example.org/cases/assigncase1" || a.Due.IsZero() || a.RecipientName != "Ola Officer" {
		t.Errorf("the email says %+v", a)
	}
	noPersonalData(t, "the assignment email", got[0].Data)
	if _, _, _, err := tgmail.RenderAssigned(a); err != nil {
		t.Errorf("it does not render: %v", err)
	}

	// A retry of the same request raises nothing more.
	f.actOK("manager-1", "assigncase1", "a1", Assign{StepID: resettlement.StepBenefits, Owner: owner("officer-3")})
	if got := f.assignedTo("assigncase1", ola); len(got) != 1 {
		t.Errorf("a retry emailed again: %d", len(got))
	}

	// Reassigned: the new owner is told, the previous owner nothing more.
	f.actOK("manager-1", "assigncase1", "a2", Assign{StepID: resettlement.StepBenefits, Owner: owner("officer-1")})
	if got := f.assignedTo("assigncase1", olu); len(got) != 1 {
		t.Errorf("the new owner got %d emails", len(got))
	}
	if got := f.assignedTo("assigncase1", ola); len(got) != 1 {
		t.Errorf("the previous owner got %d emails, want only the one from when it was theirs", len(got))
	}
	// Back to the first owner: a new assignment, a new email.
	f.actOK("manager-1", "assigncase1", "a3", Assign{StepID: resettlement.StepBenefits, Owner: owner("officer-3")})
	if got := f.assignedTo("assigncase1", ola); len(got) != 2 {
		t.Errorf("a second assignment to the same person: %d emails", len(got))
	}
	// To a team queue, or to oneself: no email.
	f.actOK("manager-1", "assigncase1", "a4", Assign{StepID: resettlement.StepBenefits, Owner: owner("")})
	f.actOK("officer-1", "assigncase1", "a5", Assign{StepID: resettlement.StepBenefits, Owner: owner("officer-1")})
	if got := f.assignedTo("assigncase1", olu); len(got) != 1 {
		t.Errorf("taking a step oneself emailed: %d", len(got))
	}
	if got := f.assignedTo("assigncase1", "resettlement@pvi.example.org"); len(got) != 0 {
		t.Errorf("the queue got an assignment email: %+v", got)
	}
	// A refused assignment emails nobody.
	if _, err := f.s.Act(f.ctx, f.as("manager-1"), "assigncase1", "a6", Assign{StepID: resettlement.StepBenefits, Owner: owner("officer-1")}); Status(err) != 409 {
		t.Fatalf("assigning to the owner it has: %v", err)
	}
	if got := f.assignedTo("assigncase1", olu); len(got) != 1 {
		t.Errorf("a refused assignment emailed: %d", len(got))
	}
}

func TestAssignmentEmailsKeepTheOwnersChoices(t *testing.T) {
	f := newFixture(t)
	f.withEngine()
	f.s.BaseURL = "https://throughgate.example.org"
	f.readModelCase("assigncase2", openReq("A1111AA"))
	// officer-3 turned assignment emails off; officer-1 takes a daily digest.
	if err := f.s.DB.SetMuted(f.ctx, "officer-3", []string{tgmail.KindAssigned}); err != nil {
		t.Fatal(err)
	}
	st, _ := f.s.DB.StaffMember(f.ctx, "officer-1")
	st.Notify = "digest"
	if err := f.s.DB.PutStaff(f.ctx, st); err != nil {
		t.Fatal(err)
	}
	f.actOK("manager-1", "assigncase2", "a1", Assign{StepID: resettlement.StepBenefits, Owner: owner("officer-3")})
	if got := f.assignedTo("assigncase2", ola); len(got) != 0 {
		t.Errorf("a muted owner was emailed: %+v", got)
	}
	f.actOK("manager-1", "assigncase2", "a2", Assign{StepID: resettlement.StepGPRegistration, Owner: owner("officer-1")})
	got := f.assignedTo("assigncase2", olu)
	if len(got) != 1 || got[0].State != "digest" {
		t.Fatalf("a digest reader's assignment email: %+v", got)
	}
	held, err := f.s.DB.HeldEmails(f.ctx, olu, tgmail.KindAssigned)
	if err != nil || len(held) != 1 {
		t.Fatalf("held for the digest: %+v %v", held, err)
	}
	var a tgmail.Assigned
	json.Unmarshal(held[0].Data, &a)
	subject, text, _, err := tgmail.RenderDigestOf(tgmail.Digest{RecipientName: "Olu Officer", Day: testNow, Assigned: []tgmail.Assigned{a}})
	if err != nil || !strings.Contains(subject, "1 assigned to you") || !strings.Contains(text, "GP registration") {
		t.Errorf("the digest lists it: %q %v\n%s", subject, err, text)
	}
}

func TestBulkAndCaseReassignmentEmailEachNewOwner(t *testing.T) {
	f := newFixture(t)
	f.withEngine()
	f.s.BaseURL = "https://throughgate.example.org"
	f.readModelCase("assigncase3", openReq("A1111AA"))
	f.readModelCase("assigncase4", openReq("B2222BB"))
	items := []ReassignItem{
		{CaseID: "assigncase3", StepID: resettlement.StepBenefits, Owner: owner("officer-3")},
		{CaseID: "assigncase3", StepID: resettlement.StepIDDocuments, Owner: owner("officer-3")},
		{CaseID: "assigncase4", StepID: resettlement.StepBenefits, Owner: owner("officer-1")},
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
	if got := f.assignedTo("assigncase3", ola); len(got) != 2 {
		t.Errorf("officer-3 got %d emails for two steps", len(got))
	}
	if got := f.assignedTo("assigncase4", olu); len(got) != 1 {
		t.Errorf("officer-1 got %d emails", len(got))
	}
	// The same request again changes nothing and sends nothing.
	if _, err := f.s.Reassign(f.ctx, f.as("manager-1"), "bulk1", items); err != nil {
		t.Fatal(err)
	}
	if got := f.assignedTo("assigncase3", ola); len(got) != 2 {
		t.Errorf("a retried bulk reassignment emailed again: %d", len(got))
	}

	// The whole case: one email, listing the open steps it brings.
	f.actOK("manager-1", "assigncase4", "c1", Assign{Owner: owner("officer-3")})
	got := f.assignedTo("assigncase4", ola)
	if len(got) != 1 {
		t.Fatalf("the case's new owner got %d emails", len(got))
	}
	var a tgmail.Assigned
	json.Unmarshal(got[0].Data, &a)
	if a.StepTitle != "" || !strings.HasPrefix(got[0].AlarmKey, "assigned:case:") {
		t.Errorf("the case's email: %+v (key %s)", a, got[0].AlarmKey)
	}
	subject, _, _, err := tgmail.RenderAssigned(a)
	if err != nil || subject != "Case assigncase4 assigned to you" {
		t.Errorf("subject %q %v", subject, err)
	}
}
