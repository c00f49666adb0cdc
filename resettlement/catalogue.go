package resettlement

// StepKind names a kind of step in the catalogue.
type StepKind string

const (
	KindIdentify        StepKind = "identify"
	KindImmediateNeeds  StepKind = "immediate-needs"
	KindNeedsAssessment StepKind = "needs-assessment"
	KindHousingReferral StepKind = "housing-referral"
	KindIDDocuments     StepKind = "id-documents"
	KindBankAccount     StepKind = "bank-account"
	KindBenefits        StepKind = "benefits"
	KindGPRegistration  StepKind = "gp-registration"
	KindMedicines       StepKind = "medicines"
	KindReleasePlan     StepKind = "release-plan"
	KindRelease         StepKind = "release"
	KindFollowUp        StepKind = "follow-up"
	KindPathwaySupport  StepKind = "pathway-support"
	KindHandover        StepKind = "handover"
)

// anchor is what a step's window is measured from.
type anchor int

const (
	fromReception anchor = iota // C, the day the case opened in custody
	fromRelease                 // R, the adjusted release day
)

// shift is a calendar move applied to an anchor date.
type shift struct{ months, days, workingDays int }

func (s shift) apply(c Calendar, d Date) Date {
	return c.AddWorkingDays(d.AddMonths(s.months).AddDays(s.days), s.workingDays)
}

// entry is one row of the step catalogue.
type entry struct {
	id, title string
	kind      StepKind
	pathway   Pathway
	blocking  bool
	anchor    anchor
	from      *shift // nil: no start window
	due       shift
}

// catalogue is the standard plan, with the reason for each window in
// DESIGN.md §1. The order is the order steps are shown in.
var catalogue = []entry{
	{id: "identify", title: "Identify and open case", kind: KindIdentify, anchor: fromReception},
	// Immediate needs are screened on reception (2022 pre-release framework).
	{id: "immediate-needs", title: "Immediate needs screening", kind: KindImmediateNeeds, anchor: fromReception, due: shift{days: 3}},
	// The pre-release window opens 12 weeks out; see needsAssessmentDue for the late-identification rule.
	{id: "needs-assessment", title: "Pre-release needs assessment (all pathways)", kind: KindNeedsAssessment, anchor: fromRelease, from: &shift{days: -84}, due: shift{days: -70}},
	// Homelessness Reduction Act 2017: the council owes a 56-day prevention duty.
	{id: "housing-referral", title: "Housing: duty to refer", kind: KindHousingReferral, pathway: Accommodation, blocking: true, anchor: fromRelease, due: shift{days: -56}},
	// ID funding covers people with 12 weeks or less to serve.
	{id: "id-documents", title: "ID documents", kind: KindIDDocuments, pathway: FinanceID, blocking: true, anchor: fromRelease, from: &shift{days: -84}, due: shift{days: -28}},
	// The prison banking scheme takes applications between 6 months and 6 weeks out.
	{id: "bank-account", title: "Bank account", kind: KindBankAccount, pathway: FinanceID, blocking: true, anchor: fromRelease, from: &shift{months: -6}, due: shift{days: -42}},
	{id: "benefits", title: "Universal Credit claim prepared and jobcentre appointment booked", kind: KindBenefits, pathway: FinanceID, anchor: fromRelease, due: shift{days: -7}},
	// Practices may register people up to four weeks before release.
	{id: "gp-registration", title: "GP registration", kind: KindGPRegistration, pathway: Health, blocking: true, anchor: fromRelease, from: &shift{days: -28}, due: shift{days: -7}},
	{id: "medicines", title: "Medicines and prescriptions for release day", kind: KindMedicines, pathway: Health, anchor: fromRelease, due: shift{days: -2}},
	{id: "release-plan", title: "Release-day plan confirmed (night-one accommodation, travel, appointments)", kind: KindReleasePlan, pathway: Accommodation, blocking: true, anchor: fromRelease, due: shift{workingDays: -2}},
	{id: "release", title: "Release", kind: KindRelease, anchor: fromRelease},
	{id: "follow-up-1", title: "Follow-up: night one", kind: KindFollowUp, anchor: fromRelease, from: &shift{days: 1}, due: shift{days: 1}},
	{id: "follow-up-7", title: "Follow-up: first week", kind: KindFollowUp, anchor: fromRelease, from: &shift{days: 7}, due: shift{days: 7}},
	{id: "follow-up-28", title: "Follow-up: four weeks", kind: KindFollowUp, anchor: fromRelease, from: &shift{days: 28}, due: shift{days: 28}},
	{id: "follow-up-84", title: "Follow-up: 12-week accommodation outcome", kind: KindFollowUp, pathway: Accommodation, anchor: fromRelease, from: &shift{days: 84}, due: shift{days: 84}},
}

// actions say, in one sentence, what the owner of a step of each kind does.
var actions = map[StepKind]string{
	KindIdentify:        "Confirm the person's identity and open the case.",
	KindImmediateNeeds:  "Screen the person's immediate needs on reception and record what needs urgent action.",
	KindNeedsAssessment: "Assess the person's needs on all seven resettlement pathways and record the result.",
	KindHousingReferral: "Make the duty-to-refer referral to the local housing authority the person chooses, with their consent to share contact details.",
	KindIDDocuments:     "Apply for the person's ID documents (birth certificate, provisional licence or passport) so they leave with ID.",
	KindBankAccount:     "Open a bank account through the prison banking scheme.",
	KindBenefits:        "Have the prison work coach prepare the Universal Credit claim and book the first jobcentre appointment.",
	KindGPRegistration:  "Register the person with a GP practice near where they will live; lack of ID or address is no reason to refuse.",
	KindMedicines:       "Arrange medicines and prescriptions to take out on release day.",
	KindReleasePlan:     "Confirm night-one accommodation, travel and first appointments for release day.",
	KindRelease:         "Record the release on the day.",
	KindFollowUp:        "Contact the person and record how they are doing, accommodation first.",
	KindPathwaySupport:  "Arrange the support the assessment found the person needs on this pathway.",
	KindHandover:        "Read the sending prison's notes, take ownership of the open steps and contact the person.",
}

// Action says what the step's owner has to do.
func (s Step) Action() string { return actions[s.Kind] }

// supportDue is when a pathway without a standard step of its own needs its
// support arranged, once the assessment says support is required.
var supportDue = shift{days: -28}

// lookup finds a catalogue entry by step id.
func lookup(id string) (entry, bool) {
	for _, e := range catalogue {
		if e.id == id {
			return e, true
		}
	}
	return entry{}, false
}

// pathwayHasStandardStep reports whether the catalogue already has work for p,
// so the assessment needs no extra support step for it.
func pathwayHasStandardStep(p Pathway) bool {
	for _, e := range catalogue {
		if e.pathway == p {
			return true
		}
	}
	return false
}

// isFollowUp reports whether the step belongs to after release.
func isFollowUp(id string) bool {
	e, ok := lookup(id)
	return ok && e.kind == KindFollowUp
}
